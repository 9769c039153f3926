import { methodOfVerb } from '../wire/verbs.js';
import { encodeSegment, type KubeRequest } from './request.js';

/** The parts that name one resource request kubegate makes itself (a rollback, a preview). */
export type ResourceRequestParts = Pick<
  KubeRequest,
  'group' | 'version' | 'resource' | 'subresource' | 'namespace' | 'name' | 'contentType'
> & { verb: 'create' | 'update' | 'patch' | 'delete'; query?: Record<string, string[]> };

/**
 * A KubeRequest built from its parts, each path segment percent-encoded: a name such as
 * `victim?x=1` stays one segment of one object, never a query or another path.
 */
export function buildResourceRequest(p: ResourceRequestParts): KubeRequest {
  const gv = p.group ? ['apis', p.group, p.version] : ['api', p.version];
  const ns = p.namespace ? ['namespaces', p.namespace] : [];
  const tail = [p.resource, p.name, p.subresource].filter(Boolean);
  const query = p.query ?? {};
  const params = new URLSearchParams();
  for (const [k, vs] of Object.entries(query)) for (const v of vs) params.append(k, v);
  const search = params.toString();
  return {
    method: methodOfVerb(p.verb)!,
    verb: p.verb,
    resourceRequest: true,
    group: p.group,
    version: p.version,
    resource: p.resource,
    subresource: p.subresource,
    namespace: p.namespace,
    name: p.name,
    path: `/${[...gv, ...ns, ...tail].map(encodeSegment).join('/')}`,
    search: search ? `?${search}` : '',
    query,
    dryRun: query.dryRun?.[0] === 'All',
    contentType: p.contentType,
    impersonate: { user: null, uid: null, groups: [], extra: {} },
    upgrade: false,
    mutating: true,
  };
}
