import type { HoldEvent } from '../approval/notifier.js';
import { REJECTION_MEMORY_MS, recentRejection } from '../approval/rejections.js';
import type { ApprovalService } from '../approval/service.js';
import type { Config } from '../config.js';
import { resourceVersionOf } from '../kube/live.js';
import { forbidden, StatusError } from '../kube/status.js';
import type { Metrics } from '../metrics.js';
import { pendingDetail, type StateStore, type StoredApproval } from '../state/store.js';
import type { PendingRequest } from '../wire/request-view.js';
import { honoursDryRun, isDelete } from '../wire/verbs.js';
import type { RequestAudit } from './audit.js';
import { type HeldRef, type Resume, targetOf, type With } from './context.js';
import { warning } from './decide.js';

export interface ApproveDeps {
  config: Config;
  approvals: ApprovalService;
  store: StateStore;
  audit: RequestAudit;
  metrics: Metrics;
}

type Decided = With<'caller' | 'body' | 'decided'>;
type Approved = With<'caller' | 'body' | 'decided' | 'approved'>;

/**
 * Lets a decided request through when it needs no approval, or when enough approvals exist;
 * otherwise holds it as pending (up to `ctx.holdMs`) and answers with what is still needed.
 */
export async function approve(ctx: Decided, d: ApproveDeps): Promise<Approved> {
  const { kr, decided } = ctx;
  const ex = d.config.execution;
  // A server-side dry run changes nothing: it runs without approval (and is how approvers preview).
  const dryRun = kr.dryRun && kr.resourceRequest && honoursDryRun(kr);
  // a rollback always needs another person's approval, whatever its risk
  const free =
    dryRun ||
    (ctx.origin !== 'rollback' &&
      ((decided.decision.risk === 'LOW' && ex.auto_approve_low_risk) || !d.config.safety.require_approval));
  if (free) return Object.assign(ctx, { approved: {} });
  if (
    ctx.cluster.requireDryRun &&
    decided.decision.dry_run_first &&
    !(await d.store.hasDryRun(decided.fingerprint))
  ) {
    await d.audit.record(ctx.facts, 'blocked', { status: 'refused', message: 'dry run required first' });
    throw forbidden(
      `${decided.summary}: run the identical command with --dry-run=server first, then again for real (audit ${ctx.id})`,
    );
  }
  // a resumed request's header tokens were accepted on its first pass (again would be a replay)
  const tokens = ctx.resume
    ? []
    : String(ctx.headers['kubegate-approval'] ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
  await d.approvals.acceptWithRequest(
    tokens,
    decided.fingerprint,
    ctx.caller.user.username,
    ctx.facts,
    decided.decision.approvals_from,
    decided.live,
  );
  return holdUntilApproved(ctx, d);
}

async function holdUntilApproved(ctx: Decided, d: ApproveDeps): Promise<Approved> {
  const { decided, caller } = ctx;
  const decision =
    ctx.origin === 'rollback'
      ? { ...decided.decision, approvals: Math.max(1, decided.decision.approvals) }
      : decided.decision;
  const resume = ctx.resume;
  let pending = await heldBefore(ctx, d);
  let announced = !!resume;
  // The same request again while it is pending (a retry): the fingerprint covers the body, so its
  // first held record has this body, and a client retrying a large change does not write it to
  // the log again each time. Not a DELETE: its fingerprint leaves DeleteOptions.dryRun out.
  const repeat = !!pending && !isDelete(ctx.kr);
  const deadline = resume?.deadline ?? Date.now() + ctx.holdMs;
  let woke = resume?.since;
  for (;;) {
    // news that comes while the approvals are counted (or, run again, since it woke) wakes the
    // wait below at once
    const since = woke ?? d.approvals.newsMark();
    woke = undefined;
    const { verdict, live } = await d.approvals.count(
      decided.fingerprint,
      decision,
      caller.user.username,
      resourceVersionOf(decided.live),
      ctx.origin === 'plan' ? ctx.facts.plan_id : undefined,
      decided.live,
    );
    if (verdict.ok) {
      // a client that left must not spend approvals on a run that will never happen
      if (ctx.clientGone) throw leftWhileHeld();
      if (!(await spendOrWait(ctx, d, pending, live, deadline))) continue;
      if (pending) d.metrics.approvalLatency((Date.now() - pending.createdAt) / 1000);
      if (pending) ctx.facts.request_id = pending.id;
      // approved as part of a plan: every later record of the request names the plan
      const planId = live.find((a) => a.planId)?.planId;
      if (planId) ctx.facts.plan_id = planId;
      const approvers = verdict.use.map((a) => a.approver);
      ctx.responseHeaders.warning = warning(
        `kubegate: ${decided.summary}, approved by ${approvers.join(', ')}; audit id ${ctx.facts.request_id}`,
      );
      return Object.assign(ctx, {
        approved: { approvers, jtis: live.map((a) => a.jti), ...(pending ? { pending } : {}) },
      });
    }
    // a plan's step runs on the plan's approval or not at all: it is never held on its own
    if (ctx.origin === 'plan')
      throw forbidden(`step not approved: ${decided.summary}; ${verdict.why} (plan ${ctx.facts.plan_id})`);
    if (!pending) await refuseIfJustRejected(ctx, d);
    pending ??= heldRef(await d.approvals.hold(pendingOf(ctx, decision.approvals)));
    ctx.facts.request_id = pending.id;
    if (!announced) {
      await d.audit.record(ctx.facts, decision.override_required ? 'blocked' : 'held', {
        status: 'pending',
        ...(repeat ? { repeat: true } : { body: ctx.body.object }),
        message: verdict.why,
      });
      announced = true;
    }
    if (decision.override_required && !d.config.safety.allow_critical && verdict.why.includes('override'))
      throw heldAnswer(ctx, pending, decision, verdict.why, 'blocked: ');
    const left = deadline - Date.now();
    // no news until the deadline: the answer is the held one, without asking the store again
    // (the answer is made only then: a held request keeps as little as it can while it waits)
    const why = verdict.why;
    if (left <= 0) throw heldAnswer(ctx, pending, decision, why);
    // a client's request waits parked: its chain lets go of everything, and runs again on news
    if (ctx.parkable) throw new Parked(pending, deadline, since);
    if ((await waitForNews(ctx, d, pending, left, since)) === 'deadline')
      throw heldAnswer(ctx, pending, decision, why);
  }
}

/**
 * The held request this one is: the one it runs again as, or one held with its fingerprint. Never
 * for a plan's step: it runs on its plan's approval only, and a standalone held request of the
 * same fingerprint is someone else's, not to be spent or settled by the step.
 */
async function heldBefore(ctx: Decided, d: ApproveDeps): Promise<HeldRef | undefined> {
  const resume = ctx.resume;
  if (resume && resume.pending.fingerprint !== ctx.decided.fingerprint)
    throw new StatusError(
      409,
      'Conflict',
      `request ${resume.pending.id} is no longer the request that was held`,
    );
  if (resume) return resume.pending;
  if (ctx.origin === 'plan') return undefined;
  const held = await d.store.findPendingByFingerprint(ctx.decided.fingerprint);
  // a rollback runs only as kubegate runs it (as the approver who asked, recorded as the undo of
  // its change): the same bytes sent by a client are not that rollback (bypass round 18)
  if (held?.detail?.rollbackOf && ctx.origin !== 'rollback') {
    const message = `${held.id} is the rollback of ${held.detail.rollbackOf}: kubegate runs it once approved (approve-cli approve ${held.id})`;
    await d.audit.record(ctx.facts, 'blocked', { status: 'refused', message });
    throw new StatusError(409, 'Conflict', message);
  }
  return heldRef(held);
}

/** The answer to a request still held (or blocked for want of an override): how to approve it. */
function heldAnswer(
  ctx: Decided,
  pending: HeldRef,
  decision: Decided['decided']['decision'],
  why: string,
  prefix = '',
): StatusError {
  const again = ctx.origin === 'client' ? ', then run the same command again' : '';
  const instructions = `held for approval as ${pending.id}: ${ctx.decided.summary}; ${why}. ${howToApprove(pending.id, decision)}${again}`;
  return forbidden(`${prefix}${instructions}`, { name: pending.id, kind: 'kubegate-request' });
}

/**
 * Spends the approvals, or, when an identical held request won them at the same moment, waits:
 * if the winner's client left before anything was sent, the approvals come back and this request
 * counts them again (false); if the winner ran, this one gets the 409 it lost with.
 */
async function spendOrWait(
  ctx: Decided,
  d: ApproveDeps,
  pending: HeldRef | undefined,
  live: StoredApproval[],
  deadline: number,
): Promise<boolean> {
  try {
    await d.approvals.spend(pending, live);
    return true;
  } catch (err) {
    if (!pending || !(err instanceof StatusError) || err.code !== 409) throw err;
    for (;;) {
      const since = d.approvals.newsMark();
      const status = (await d.store.getPending(pending.id))?.status;
      if (status === 'pending') return false; // given back: count again
      const left = deadline - Date.now();
      if (status !== 'approved' || left <= 0) throw err;
      if ((await waitForNews(ctx, d, pending, left, since)) === 'deadline') throw err;
    }
  }
}

async function refuseIfJustRejected(ctx: Decided, d: ApproveDeps): Promise<void> {
  const was = await recentRejection(d.store, ctx.decided.fingerprint);
  if (!was) return;
  const again = new Date(was.updatedAt + REJECTION_MEMORY_MS).toISOString().slice(11, 19);
  await d.audit.record(ctx.facts, 'blocked', { status: 'refused', message: `re-run of rejected ${was.id}` });
  throw forbidden(
    `${was.message ?? 'rejected'} (request ${was.id}); the same request is refused until ${again} UTC: change it, or ask the approver`,
    { name: was.id, kind: 'kubegate-request' },
  );
}

/** The command an approver runs, copyable as is, and who must run it. */
function howToApprove(id: string, decision: Decided['decided']['decision']): string {
  const cmd = `approve-cli approve ${id}${decision.override_required ? " --override --reason 'why this is needed'" : ''}`;
  const who = decision.approvals_from.length
    ? ` (one approver from each group: ${decision.approvals_from.join(', ')})`
    : decision.override_required
      ? ' (two different approvers)'
      : '';
  return `Approve with \`${cmd}\`${who}`;
}

/**
 * A held request that waits parked: its pending record, its deadline, and the news mark taken
 * before its approvals were counted. Thrown by the approval stage and caught by the chain, which
 * parks what running the request again needs (parked.ts).
 */
export class Parked {
  constructor(
    readonly pending: HeldRef,
    readonly deadline: number,
    readonly since: number,
  ) {}
}

/**
 * Waits for news of the request until the deadline: an approval, rejection or cancellation here,
 * or a change on another replica that the store's one change feed names (then its status is read
 * again; approvals are counted again by the caller). No polling per held request.
 */
async function waitForNews(
  ctx: Decided,
  d: ApproveDeps,
  pending: HeldRef,
  ms: number,
  since: number,
): Promise<'news' | 'deadline'> {
  const ev = await startWait(ctx, d, pending, ms, since);
  if (ev === 'aborted') throw leftWhileHeld();
  if (ev === 'timeout') return 'deadline';
  await judgeNews(ev, pending, d);
  return 'news';
}

/** The answer for a client that left while its request was held (nobody reads it; nothing ran). */
export const leftWhileHeld = () => new StatusError(499 as number, 'Timeout', 'client went away while held');

/** A wait in place (not parked), counted in the held gauge; it holds the client's Gone, never the context. */
function startWait(
  ctx: Decided,
  d: ApproveDeps,
  pending: HeldRef,
  ms: number,
  since: number,
): Promise<HoldEvent | 'timeout' | 'aborted'> {
  const cluster = ctx.cluster.name;
  d.metrics.held(1, cluster);
  return d.approvals
    .wait(pending.fingerprint, ms, ctx.gone(), since)
    .finally(() => d.metrics.held(-1, cluster));
}

/** A rejection or cancellation ends the hold with its message; other news is counted again. */
async function judgeNews(ev: HoldEvent, pending: HeldRef, d: Pick<ApproveDeps, 'store'>): Promise<void> {
  const details = { name: pending.id, kind: 'kubegate-request' };
  if (ev.kind === 'rejected' || ev.kind === 'cancelled')
    throw forbidden(`${ev.kind}: ${ev.message} (request ${pending.id})`, details);
  if (ev.kind === 'news') {
    const now = await d.store.getPending(pending.id);
    if (now && (now.status === 'rejected' || now.status === 'cancelled' || now.status === 'expired'))
      throw forbidden(`${now.status}: ${now.message ?? 'no reason given'} (request ${pending.id})`, details);
  }
}

/**
 * What woke a parked request, judged before it runs again (before its decision: a request
 * cancelled by a freeze is answered "cancelled", as one waiting in place would be).
 */
export async function judgeWoken(resume: Resume, d: Pick<ApproveDeps, 'store'>): Promise<void> {
  if (resume.woke !== 'timeout') await judgeNews(resume.woke, resume.pending, d);
}

/** Only what the request needs of its pending record (a copy: the full record stays unreferenced). */
function heldRef(p: PendingRequest): HeldRef;
function heldRef(p: PendingRequest | undefined): HeldRef | undefined;
function heldRef(p: PendingRequest | undefined): HeldRef | undefined {
  return p && { id: p.id, fingerprint: p.fingerprint, createdAt: p.createdAt };
}

/** The pending request approvers see: the request, its body as decided, the live object, the decision. */
function pendingOf(ctx: Decided, approvals: number): PendingRequest {
  const { kr, body, decided, caller } = ctx;
  const now = Date.now();
  return {
    id: ctx.facts.request_id,
    fingerprint: decided.fingerprint,
    status: 'pending',
    requester: caller.user.username,
    requesterGroups: caller.user.groups,
    risk: decided.decision.risk,
    reasons: decided.decision.reasons,
    target: targetOf(kr, body.decoded ?? body.fingerprintBody),
    createdAt: now,
    updatedAt: now,
    detail: {
      ...pendingDetail({ ...kr, cluster: ctx.cluster.name }, body.fingerprintBody, decided.live, {
        ...decided.decision,
        approvals,
      }),
      ...(body.decoded !== undefined ? { decoded: body.decoded } : {}),
      ...(ctx.rollbackOf ? { rollbackOf: ctx.rollbackOf } : {}),
      ...(ctx.rollbackPlan ? { rollbackPlan: ctx.rollbackPlan } : {}),
    },
  };
}
