import type { PendingDetail } from '../wire/request-view.js';
import { methodOfVerb } from '../wire/verbs.js';

/** A short form of a request, e.g. "patch apps/v1 deployments/scale production/api". */
export function describeAction(d: PendingDetail): string {
  if (!d.resource) return `${d.verb} ${d.path}`;
  const gv = d.group ? `${d.group}/${d.version}` : d.version;
  const res = d.subresource ? `${d.resource}/${d.subresource}` : d.resource;
  const target = [d.namespace, d.name].filter(Boolean).join('/');
  return `${d.verb} ${gv} ${res}${target ? ` ${target}` : ''}`;
}

/** The HTTP method a verb arrived as (connect is GET or POST: both are shown). */
export function httpMethod(verb: string): string {
  if (verb === 'connect') return 'GET/POST';
  return methodOfVerb(verb) ?? verb.toUpperCase();
}

/** The resource as kubectl names it: `deployments.apps`, `configmaps`. */
export function kubectlResource(d: PendingDetail): string {
  return d.group ? `${d.resource}.${d.group}` : d.resource;
}

/** `-n ns name` / `name` for kubectl command lines. */
export function kubectlTarget(d: PendingDetail, name = d.name): string {
  return `${d.namespace ? `-n ${d.namespace} ` : ''}${name}`;
}

/** `production/api` or `api` (cluster-scoped). */
export function objectRef(d: PendingDetail, name = d.name): string {
  return [d.namespace, name].filter(Boolean).join('/');
}

/** The query as `k=v k=v` (repeated keys repeated), dryRun included: it is what runs. */
export function formatQuery(query: Record<string, string[]>): string {
  return Object.entries(query)
    .flatMap(([k, vs]) => vs.map((v) => `${k}=${v}`))
    .join(' ');
}
