import type { Logger } from 'pino';
import type { ApprovalService } from '../approval/service.js';
import type { Config } from '../config.js';
import { fetchLive, objectPath } from '../kube/live.js';
import type { Metrics } from '../metrics.js';
import { checkRollout, hasRollout } from '../rollout-check.js';
import { pendingDetail, type StateStore } from '../state/store.js';
import type { RequestAudit } from './audit.js';
import type { With } from './context.js';
import type { Outcome } from './forward.js';

export interface RecordDeps {
  config: Config;
  audit: RequestAudit;
  approvals: ApprovalService;
  store: StateStore;
  metrics: Metrics;
  logger: Logger;
}

type Approved = With<'caller' | 'body' | 'decided' | 'approved'>;

/** Subresources whose upgrade opens a stream into a container: nothing runs unless it switched. */
const STREAMS = new Set(['exec', 'attach', 'portforward']);

/** Before an approved change goes upstream: the snapshot its rollback starts from. */
export async function snapshotBefore(ctx: Approved, d: RecordDeps): Promise<void> {
  if (!ctx.approved.approvers || ctx.kr.dryRun) return;
  const snapshot = {
    requestId: ctx.facts.request_id,
    target: ctx.facts.resource,
    before: ctx.decided.live,
    detail: pendingDetail(
      { ...ctx.kr, cluster: ctx.cluster.name },
      ctx.body.fingerprintBody,
      ctx.decided.live,
      ctx.decided.decision,
    ),
    createdAt: Date.now(),
    requester: ctx.caller.user.username,
    risk: ctx.decided.decision.risk,
  };
  await d.store.putSnapshot(snapshot);
  ctx.approved.snapshot = snapshot;
}

/** The upstream's answer: the outcome record, the approvals' fate, the snapshot, the rollout check. */
export async function recordOutcome(ctx: Approved, o: Outcome, d: RecordDeps): Promise<void> {
  try {
    await recordOrThrow(ctx, o, d);
  } catch (err) {
    // the answer went out already: a failure here is logged, never turned into a second answer
    d.logger.error(
      { err: (err as Error).message, request_id: ctx.facts.request_id },
      'cannot record the outcome',
    );
  }
}

async function recordOrThrow(ctx: Approved, o: Outcome, d: RecordDeps): Promise<void> {
  const { kr, approved } = ctx;
  d.metrics.upstream('write', (Date.now() - ctx.started) / 1000, ctx.cluster.name);
  const ok = kr.upgrade ? o.status === 101 : o.status >= 200 && o.status < 300;
  // A request never sent ran nothing, and neither did an exec/attach/port-forward upgrade the
  // upstream refused (it answered, without a 101: no stream opened): their approvals are not spent
  // (kubectl retries a refused WebSocket exec over SPDY with the very same request). Never for an
  // upgrade left without an answer (the kubelet may have started the command before its 101
  // reached kubegate), nor for proxy: the backend may have answered, i.e. acted, without a 101.
  const refused = kr.upgrade && STREAMS.has(kr.subresource) && !ok && o.status > 0;
  const giveBack = !!approved.jtis?.length && (!!o.notSent || refused);
  // sent, but no answer came (the client left, and the upstream did not answer in time): it may be applied
  const unknown = !ok && o.status === 0 && !o.notSent;
  // durable before anything else is said about the outcome (the client has its answer already);
  // it rides the next group commit instead of paying an fsync of its own
  await d.audit.outcome(ctx.facts, ok ? 'executed' : 'failed', {
    status: ok ? 'success' : unknown ? 'unknown' : 'failed',
    http_status: o.status,
    duration_seconds: (Date.now() - ctx.started) / 1000,
    ...(o.error ? { message: o.error } : {}),
    ...(kr.dryRun ? { dry_run: true } : {}),
    ...(giveBack ? { approval_kept: true } : {}),
  });
  const outcome = giveBack ? 'give-back' : ok ? 'executed' : 'failed';
  await d.approvals.settle(approved.pending, approved.jtis ?? [], outcome, `HTTP ${o.status}`, {
    fingerprint: ctx.decided.fingerprint,
    plan: ctx.origin === 'plan' ? ctx.facts.plan_id : undefined,
  });
  if (!ok) return;
  // an approver's preview is not the requester's dry run: it must not satisfy `dry_run_first`
  if (kr.dryRun) {
    if (ctx.origin !== 'preview') await d.store.recordDryRun(ctx.decided.fingerprint, Date.now());
    return;
  }
  await markExecuted(ctx, d);
  checkRolloutLater(ctx, d);
}

/** Only a change that ran can be rolled back; the object after it tells what it changed. */
async function markExecuted(ctx: Approved, d: RecordDeps): Promise<void> {
  const snapshot = ctx.approved.snapshot;
  if (!snapshot) return;
  const created = (ctx.body.object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  const name = ctx.kr.name || (typeof created === 'string' ? created : '');
  const after = name
    ? await fetchLive(ctx.cluster.upstream, { ...ctx.kr, name }, ctx.caller.credentials)
    : null;
  await d.store.putSnapshot({ ...snapshot, executed: true, after });
}

function checkRolloutLater(ctx: Approved, d: RecordDeps): void {
  const seconds = d.config.execution.validate_rollout_seconds;
  const path = objectPath(ctx.kr);
  if (seconds <= 0 || !path || !hasRollout(ctx.kr.group, ctx.kr.resource)) return;
  const { request_id, cluster, action, resource, user } = ctx.facts;
  void checkRollout(ctx.cluster.upstream, ctx.caller.credentials, path, request_id, seconds * 1000)
    .then((rec) => {
      const { event, ...rest } = rec;
      d.audit.later(
        { request_id, cluster, action, resource, ...(user ? { user } : {}), risk: ctx.facts.risk },
        event as 'validated',
        rest,
      );
    })
    .catch((err: Error) =>
      d.logger.error({ err: err.message, request_id }, 'cannot record the rollout check'),
    );
}
