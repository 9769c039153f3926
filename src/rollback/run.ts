import type { RequestAudit } from '../chain/audit.js';
import type { Target } from '../chain/chain.js';
import { newContext, type RequestContext } from '../chain/context.js';
import type { Outcome } from '../chain/forward.js';
import type { Cluster, Clusters } from '../clusters.js';
import { actAs } from '../kube/act-as.js';
import { buildResourceRequest } from '../kube/build.js';
import { kubeCall } from '../kube/client.js';
import { StatusError } from '../kube/status.js';
import type { StateStore } from '../state/store.js';
import type { Upstream } from '../upstream.js';
import type { PendingRequest, Snapshot } from '../wire/request-view.js';
import { planUndo, UndoError, type UndoRequest } from './undo.js';

export interface RollbackDeps {
  handle: (ctx: RequestContext, to: Target) => Promise<Outcome>;
  store: StateStore;
  clusters: Clusters;
  audit: RequestAudit;
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | null =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null;

/** The credentials a rollback runs with: kubegate's own, impersonating the approver who asked for it. */
function asApprover(upstream: Upstream, approver: string): Record<string, string | string[]> {
  const own = upstream.ownAuthorization();
  if (!own)
    throw new StatusError(
      409,
      'Conflict',
      'kubegate has no credentials of its own to run a rollback (upstream token)',
    );
  return actAs(own, approver);
}

/** An undo as a request of kubegate's own, asked for by `approver`, through the same chain as any other. */
function undoContext(
  undo: UndoRequest,
  approver: string,
  cluster: Cluster,
  o: { of: string; dryRun?: boolean; id?: string },
) {
  const kr = buildResourceRequest({ ...undo, query: o.dryRun ? { dryRun: ['All'] } : {} });
  const ctx = newContext({
    origin: 'rollback',
    cluster,
    kr,
    headers: {},
    signal: new AbortController().signal,
    holdMs: 0,
    ...(o.id ? { id: o.id } : {}),
  });
  // a DELETE with a body takes its dryRun from the body (the apiserver ignores the query then)
  const sent = o.dryRun && undo.verb === 'delete' ? { ...asObj(undo.body), dryRun: ['All'] } : undo.body;
  ctx.caller = {
    user: { username: approver, uid: '', groups: [], extra: {} },
    credentials: asApprover(cluster.upstream, approver),
  };
  ctx.body = { object: undo.body, forward: Buffer.from(JSON.stringify(sent)), fingerprintBody: undo.body };
  Object.assign(ctx.facts, { user: approver, origin: 'rollback', rollback_of: o.of });
  ctx.rollbackOf = o.of;
  ctx.rollbackPlan = { steps: undo.steps, effect: undo.effect };
  return ctx;
}

/** The object as the approver can read it now: null when it does not exist; refused when they may not read it. */
async function readAsApprover(
  upstream: Upstream,
  d: Snapshot['detail'],
  approver: string,
): Promise<Obj | null> {
  const kr = buildResourceRequest({ ...d, verb: 'patch', subresource: '', query: {}, contentType: '' });
  const r = await kubeCall<Obj>(upstream, { path: kr.path, headers: asApprover(upstream, approver) });
  if (r.status === 200 && r.body && typeof r.body === 'object') return r.body;
  if (r.status === 404) return null;
  throw new StatusError(
    409,
    'Conflict',
    `${approver} cannot read ${d.resource} ${d.namespace ? `${d.namespace}/` : ''}${d.name} (HTTP ${r.status}): a rollback runs as the approver who asks for it, with their RBAC`,
  );
}

/** The undo of an executed change, planned against the object as it is now. */
async function planFor(snap: Snapshot, approver: string, upstream: Upstream): Promise<UndoRequest> {
  const d = snap.detail;
  const created = asObj(snap.after)?.metadata as Obj | undefined;
  const name = d.name || (typeof created?.name === 'string' ? created.name : '');
  const current = name ? await readAsApprover(upstream, { ...d, name }, approver) : null;
  try {
    return planUndo({ ...d, name, before: asObj(snap.before), after: asObj(snap.after) }, current);
  } catch (err) {
    if (err instanceof UndoError) throw new StatusError(409, 'Conflict', err.message);
    throw err;
  }
}

/**
 * Proposes the rollback of `originalId`, asked for by `approver`: planned, dry-run server-side as
 * the approver, decided by the policy, and held for another approver. Returns the pending request.
 */
export async function proposeRollback(d: RollbackDeps, originalId: string, approver: string) {
  const snap = await d.store.getSnapshot(originalId);
  if (!snap)
    throw new StatusError(
      404,
      'NotFound',
      `no rollback snapshot for ${originalId} (only changes kubegate forwarded after approval have one)`,
    );
  // a create that failed (AlreadyExists) made nothing: "undoing" it would delete someone else's object
  if (!snap.executed)
    throw new StatusError(
      409,
      'Conflict',
      `${originalId} did not run successfully (or its outcome is unknown): there is nothing to undo`,
    );
  // the undo runs on the cluster the change ran on
  const cluster = d.clusters.of(snap.detail.cluster);
  const undo = await planFor(snap, approver, cluster.upstream);
  const dry = await d.handle(undoContext(undo, approver, cluster, { of: originalId, dryRun: true }), {
    kind: 'call',
  });
  if (dry.status < 200 || dry.status >= 300)
    throw new StatusError(409, 'Conflict', `the rollback's server-side dry run failed: ${messageOf(dry)}`);
  try {
    await d.handle(undoContext(undo, approver, cluster, { of: originalId }), { kind: 'call' });
  } catch (err) {
    const id =
      err instanceof StatusError && err.details?.kind === 'kubegate-request' ? err.details.name : undefined;
    const p = id ? await d.store.getPending(id) : undefined;
    if (p) return { pending: p, undo };
    throw err;
  }
  throw new StatusError(500, 'InternalError', 'a rollback ran without being held for approval');
}

/** Runs a rollback once its approvals are in: the same chain, decided again against the object now. */
export async function runApprovedRollback(d: RollbackDeps, p: PendingRequest): Promise<Outcome | undefined> {
  const det = p.detail;
  const undo = {
    ...det,
    body: det.body,
    steps: det.rollbackPlan?.steps ?? [],
    effect: det.rollbackPlan?.effect ?? '',
  } as UndoRequest;
  let outcome: Outcome;
  try {
    const cluster = d.clusters.of(det.cluster);
    outcome = await d.handle(undoContext(undo, p.requester, cluster, { of: det.rollbackOf!, id: p.id }), {
      kind: 'call',
    });
  } catch (err) {
    if (err instanceof StatusError && err.details?.kind === 'kubegate-request') return undefined; // needs more approvals
    throw err;
  }
  const snap = await d.store.getSnapshot(det.rollbackOf!);
  if (outcome.status >= 200 && outcome.status < 300 && snap)
    await d.audit.record(
      {
        request_id: snap.requestId,
        cluster: d.clusters.of(snap.detail.cluster).name,
        action: `${snap.detail.verb} ${snap.detail.path}`,
        resource: snap.target,
        ...(snap.requester ? { user: snap.requester } : {}),
        ...(snap.risk ? { risk: snap.risk } : {}),
      },
      'rolled_back',
      { status: 'success', rollback_request_id: p.id, asked_by: p.requester },
    );
  return outcome;
}

function messageOf(o: Outcome): string {
  const m = (o.body as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : (o.error ?? `HTTP ${o.status}`);
}
