import type { KubeRequest } from '../kube/request.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { ClusterInput, PolicyInput, UserInfo } from '../policy/input.js';
import { warning } from './decide.js';

type Obj = Record<string, unknown>;
const str = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');

/**
 * `kubectl auth can-i VERB RESOURCE` through kubegate: the apiserver answers as always (RBAC);
 * kubegate adds a Warning when it would hold (or deny) that verb, so "yes" is not misread as
 * "it will simply run".
 */
export function canIWarning(
  kr: KubeRequest,
  body: unknown,
  user: UserInfo,
  policy: PolicyEngine,
  cluster: ClusterInput,
): string | undefined {
  if (
    kr.verb !== 'create' ||
    kr.group !== 'authorization.k8s.io' ||
    kr.resource !== 'selfsubjectaccessreviews'
  )
    return undefined;
  const spec = (body as { spec?: { resourceAttributes?: unknown } } | null)?.spec?.resourceAttributes;
  if (!spec || typeof spec !== 'object') return undefined;
  const a = spec as Obj;
  const verb = str(a, 'verb');
  if (!verb || verb === '*') return undefined;
  const input: PolicyInput = {
    request: {
      verb,
      group: str(a, 'group'),
      version: str(a, 'version') || 'v1',
      resource: str(a, 'resource'),
      subresource: str(a, 'subresource'),
      namespace: str(a, 'namespace'),
      name: str(a, 'name'),
      dryRun: false,
      path: '',
      query: {},
      contentType: '',
      resourceRequest: true,
      impersonate: { user: null, uid: null, groups: [], extra: {} },
    },
    user,
    cluster: { name: cluster.name, labels: cluster.labels },
    object: null,
    oldObject: null,
    config: { ...cluster.safety },
  };
  const d = policy.decide(input);
  const what = `${verb} ${[str(a, 'resource'), str(a, 'subresource')].filter(Boolean).join('/')}`;
  if (d.deny.length) return warning(`kubegate: ${what} would be refused by policy: ${d.deny.join('; ')}`);
  if (d.risk === 'LOW') return undefined;
  const groups = d.approvals_from.length ? ` from ${d.approvals_from.join(' and ')}` : '';
  return warning(
    `kubegate: ${what} would be held for approval (${d.risk}: ${d.reasons.join('; ')}; ${d.approvals} approval${d.approvals > 1 ? 's' : ''}${groups})`,
  );
}
