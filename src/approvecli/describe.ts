import type { PendingDetail } from '../wire/request-view.js';
import { methodOfVerb } from '../wire/verbs.js';
import { getIn, isObj } from './values.js';

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

/** Content types whose bodies kubegate parses itself: anything else arrives as {contentType, sha256}. */
const READABLE_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
  'application/apply-patch+yaml',
  'application/yaml',
]);

/** A binary (protobuf, CBOR) body, which the fingerprint covers as {contentType, sha256}. */
export function isBinaryBody(d: PendingDetail): d is PendingDetail & { body: BinaryBody } {
  const b = d.body;
  return (
    !READABLE_TYPES.has(d.contentType) &&
    isObj(b) &&
    Object.keys(b).length === 2 &&
    b.contentType === d.contentType &&
    typeof b.sha256 === 'string'
  );
}

export interface BinaryBody {
  contentType: string;
  sha256: string;
}

/** The body as approvers read it: a binary one as the apiserver decoded it, when kubegate sent that. */
export function shownBody(d: PendingDetail): unknown {
  return isBinaryBody(d) && d.decoded !== undefined ? d.decoded : d.body;
}

/**
 * The name a create gives its object, or undefined when the apiserver generates it. A decoded
 * body comes from a dry run, whose name for a `generateName` is not the one the real run picks.
 */
export function createdName(d: PendingDetail): string | undefined {
  const md = getIn(shownBody(d), ['metadata']);
  const name = isObj(md) && typeof md.name === 'string' && md.name ? md.name : d.name || undefined;
  const generated = isObj(md) && typeof md.generateName === 'string' && md.generateName !== '';
  return generated && isBinaryBody(d) ? undefined : name;
}
