import type { KubeRequest } from '../kube/request.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { ClusterInput, PolicyInput, UserInfo } from '../policy/input.js';
import { warning } from './decide.js';

type Obj = Record<string, unknown>;
const str = (o: Obj, k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');

/**
 * Hints already worked out, per policy version: `kubectl auth can-i` and agents ask the same few
 * questions over and over, and the policy is a pure function of its input (no clock, no I/O), so
 * the same input under the same bundle gets the same hint without a second evaluation. Bounded:
 * the oldest answer goes first.
 */
const MAX_HINTS = 512;
const hints = new WeakMap<PolicyEngine, { version: string; byInput: Map<string, string | undefined> }>();

function remembered(policy: PolicyEngine): Map<string, string | undefined> {
  let h = hints.get(policy);
  if (!h || h.version !== policy.version) {
    h = { version: policy.version, byInput: new Map() };
    hints.set(policy, h);
  }
  return h.byInput;
}

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
  const cache = remembered(policy);
  const key = JSON.stringify(input);
  if (cache.has(key)) return cache.get(key);
  const hint = hintFor(policy, input, verb, a);
  if (cache.size >= MAX_HINTS) cache.delete(cache.keys().next().value as string);
  cache.set(key, hint);
  return hint;
}

function hintFor(policy: PolicyEngine, input: PolicyInput, verb: string, a: Obj): string | undefined {
  const d = policy.decide(input);
  const what = `${verb} ${[str(a, 'resource'), str(a, 'subresource')].filter(Boolean).join('/')}`;
  if (d.deny.length) return warning(`kubegate: ${what} would be refused by policy: ${d.deny.join('; ')}`);
  if (d.risk === 'LOW') return undefined;
  const groups = d.approvals_from.length ? ` from ${d.approvals_from.join(' and ')}` : '';
  return warning(
    `kubegate: ${what} would be held for approval (${d.risk}: ${d.reasons.join('; ')}; ${d.approvals} approval${d.approvals > 1 ? 's' : ''}${groups})`,
  );
}
