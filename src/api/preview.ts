import { redact } from '../audit/redact.js';
import type { Target } from '../chain/chain.js';
import { newContext, type RequestContext } from '../chain/context.js';
import type { Outcome } from '../chain/forward.js';
import type { Clusters } from '../clusters.js';
import { actAs } from '../kube/act-as.js';
import { buildResourceRequest, type ResourceRequestParts } from '../kube/build.js';
import { kubeCall } from '../kube/client.js';
import { StatusError } from '../kube/status.js';
import type { Upstream } from '../upstream.js';
import { hasImpersonation } from '../wire/impersonation.js';
import type { Preview } from '../wire/preview.js';
import type { PendingDetail, PendingRequest } from '../wire/request-view.js';
import { honoursDryRun } from '../wire/verbs.js';

export interface PreviewDeps {
  handle: (ctx: RequestContext, to: Target) => Promise<Outcome>;
  clusters: Clusters;
}

const PREVIEWABLE = new Set(['create', 'update', 'patch', 'delete']);

type Credentials = Record<string, string | string[]>;

/** kubegate's own credentials, impersonating the requester (and their groups): their RBAC applies. */
export function asRequester(p: PendingRequest, own: string): Credentials {
  return actAs(own, p.requester, p.requesterGroups ?? []);
}

/**
 * The apiserver's view of a held request, as its requester, asked for by an approver: a
 * server-side dry run through the chain (decided, recorded with who asked, sent with an
 * Audit-ID), the live subresource a scale/status change is compared with, and for a Namespace
 * delete what it contains.
 */
export async function previewHeld(d: PreviewDeps, p: PendingRequest, approver: string): Promise<Preview> {
  const det = p.detail;
  // the request runs as the user it impersonates (if its requester may): a dry run as the
  // requester would show an approver the result for someone else
  if (det.impersonate && hasImpersonation(det.impersonate))
    return { available: false, reason: 'the request impersonates another user (Impersonate-* headers)' };
  const cluster = d.clusters.of(det.cluster);
  const own = cluster.upstream.ownAuthorization();
  if (!own) return { available: false, reason: 'kubegate has no credentials of its own' };
  if (!PREVIEWABLE.has(det.verb) || !honoursDryRun(det))
    return { available: false, reason: `the API server offers no dry run for ${det.verb} here` };
  const creds = asRequester(p, own);
  const result = det.decoded !== undefined ? fromDecode(p) : await dryRun(d, p, approver, creds);
  const upstream = cluster.upstream;
  const live = ['scale', 'status'].includes(det.subresource)
    ? await read(upstream, det.path, creds)
    : undefined;
  const contents =
    det.verb !== 'delete'
      ? undefined
      : det.resource === 'namespaces' && !det.group
        ? await namespaceContents(upstream, det.name, creds)
        : await cascadeContents(upstream, det, creds);
  return {
    ...result,
    ...(live !== undefined ? { live: redact(live, p.target) } : {}),
    ...(contents ? { contents } : {}),
  };
}

/** A binary (protobuf/CBOR) body was read by a dry run as the requester when it arrived: that is the result. */
function fromDecode(p: PendingRequest): Preview {
  return {
    available: true,
    status: 200,
    object: redact(p.detail.decoded, p.target),
    source: 'the server-side dry run kubegate ran as the requester to read the request body',
  };
}

async function dryRun(
  d: PreviewDeps,
  p: PendingRequest,
  approver: string,
  creds: Credentials,
): Promise<Preview> {
  const ctx = previewContext(d, p, creds);
  Object.assign(ctx.facts, { user: p.requester, origin: 'preview', preview_of: p.id, asked_by: approver });
  let r: Outcome;
  try {
    r = await d.handle(ctx, { kind: 'call' });
  } catch (err) {
    // refused before it was sent (frozen, denied, audit log down): say why instead of a preview
    if (err instanceof StatusError) return { available: false, reason: err.message };
    throw err;
  }
  const ok = r.status >= 200 && r.status < 300;
  return {
    available: true,
    status: r.status,
    ...(ok
      ? { object: redact(r.body, p.target) }
      : { message: (r.body as { message?: string } | null)?.message ?? r.error ?? `HTTP ${r.status}` }),
  };
}

/** The held request again, with dryRun=All, as a request of kubegate's own for its requester. */
function previewContext(d: PreviewDeps, p: PendingRequest, credentials: Credentials): RequestContext {
  const det: PendingDetail = p.detail;
  const query = Object.fromEntries(Object.entries(det.query).filter(([k]) => k !== 'dryRun'));
  const kr = buildResourceRequest({ ...det, query: { ...query, dryRun: ['All'] } } as ResourceRequestParts);
  const signal = new AbortController().signal;
  const cluster = d.clusters.of(det.cluster);
  const ctx = newContext({ origin: 'preview', cluster, kr, headers: {}, signal, holdMs: 0 });
  ctx.caller = {
    user: { username: p.requester, uid: '', groups: p.requesterGroups ?? [], extra: {} },
    credentials,
  };
  // A DELETE with a body takes its options from the body alone: the dry run must be in the body.
  const sent = det.verb === 'delete' ? { ...(det.body as object | null), dryRun: ['All'] } : det.body;
  ctx.body = {
    object: det.body,
    forward: Buffer.from(JSON.stringify(sent ?? {})),
    fingerprintBody: det.body,
    ...(det.contentType === 'application/yaml' || !det.contentType
      ? { contentType: 'application/json' }
      : {}),
  };
  return ctx;
}

async function read(upstream: Upstream, path: string, headers: Credentials): Promise<unknown> {
  const r = await kubeCall(upstream, { path, headers }).catch(() => undefined);
  return r?.status === 200 ? r.body : undefined;
}

/** What a Namespace delete takes with it, counted kind by kind as the requester can see it. */
const NAMESPACED = [
  ['pods', '/api/v1'],
  ['services', '/api/v1'],
  ['configmaps', '/api/v1'],
  ['secrets', '/api/v1'],
  ['persistentvolumeclaims', '/api/v1'],
  ['deployments', '/apis/apps/v1'],
  ['statefulsets', '/apis/apps/v1'],
  ['daemonsets', '/apis/apps/v1'],
  ['jobs', '/apis/batch/v1'],
  ['cronjobs', '/apis/batch/v1'],
] as const;

async function namespaceContents(upstream: Upstream, ns: string, headers: Credentials) {
  const out: Record<string, number | string> = {};
  for (const [resource, gv] of NAMESPACED) {
    const path = `${gv}/namespaces/${encodeURIComponent(ns)}/${resource}?limit=1`;
    const r = await kubeCall<{ items?: unknown[]; metadata?: { remainingItemCount?: number } }>(upstream, {
      path,
      headers,
    }).catch(() => undefined);
    if (r?.status !== 200) out[resource] = 'not readable';
    else {
      const n = (r.body.items?.length ?? 0) + (r.body.metadata?.remainingItemCount ?? 0);
      if (n > 0) out[resource] = n;
    }
  }
  return out;
}

/** Workloads whose delete (unless orphaning) takes the pods it selects with it. */
const CASCADES: Record<string, string[]> = {
  'apps/deployments': ['replicasets', 'pods'],
  'apps/statefulsets': ['pods'],
  'apps/daemonsets': ['pods'],
  'apps/replicasets': ['pods'],
  'batch/jobs': ['pods'],
};

/** What a cascading delete of a workload takes with it: what its label selector matches now. */
async function cascadeContents(upstream: Upstream, det: PendingDetail, headers: Credentials) {
  const kinds = CASCADES[`${det.group}/${det.resource}`];
  if (
    !kinds ||
    /Orphan/.test(JSON.stringify(det.body ?? '')) ||
    det.query.propagationPolicy?.[0] === 'Orphan'
  )
    return undefined;
  const selector = (
    det.oldObject as { spec?: { selector?: { matchLabels?: Record<string, string> } } } | null
  )?.spec?.selector?.matchLabels;
  if (!selector || !Object.keys(selector).length) return undefined;
  const labels = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const out: Record<string, number | string> = {};
  for (const kind of kinds) {
    const gv = kind === 'replicasets' ? '/apis/apps/v1' : '/api/v1';
    const path = `${gv}/namespaces/${encodeURIComponent(det.namespace)}/${kind}?labelSelector=${encodeURIComponent(labels)}`;
    const r = await kubeCall<{ items?: unknown[] }>(upstream, { path, headers }).catch(() => undefined);
    out[kind] = r?.status === 200 ? (r.body.items?.length ?? 0) : 'not readable';
  }
  return out;
}
