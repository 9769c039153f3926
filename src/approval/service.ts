import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/log.js';
import type { RequestAudit } from '../chain/audit.js';
import type { HeldRef, RequestFacts } from '../chain/context.js';
import type { Gone } from '../client-gone.js';
import type { Config } from '../config.js';
import { resourceVersionOf } from '../kube/live.js';
import { StatusError } from '../kube/status.js';
import { PasskeyApproval } from '../passkey/approval.js';
import type { StateStore, StoredApproval } from '../state/store.js';
import type { ApprovalAction } from '../wire/approval-token.js';
import type { ApproverJwks } from '../wire/approver-key.js';
import { isPlanId } from '../wire/plan-view.js';
import type { PendingRequest } from '../wire/request-view.js';
import { countApprovals, type Need, type Verdict } from './count.js';
import { displaceable, overBytes } from './displace.js';
import { coverGroups, groupsOf, refuseOutOfScope } from './groups.js';
import { ALL, type HoldEvent, type Notifier, type Waiter } from './notifier.js';
import { objectContentHash } from './object-version.js';
import { ApprovalError, approvalJti, type VerifiedApproval, verifyApproval } from './token.js';
import { SIGNED_BEFORE_WITHDRAWAL, signedBeforeWithdrawal } from './withdrawals.js';

export interface ApprovalDeps {
  config: Config;
  store: StateStore;
  notifier: Notifier;
  audit: RequestAudit;
  /** For events that belong to no request (freeze). */
  log: AuditLog;
  jwks: () => ApproverJwks;
  logger: Logger;
}

/** A held request above this size makes kubegate check the byte shares of held requests. */
const LARGE_HELD_BYTES = 64 * 1024;

export interface RequestChange {
  id: string;
  what:
    | 'held'
    | 'approved'
    | 'rejected'
    | 'revoked'
    | 'cancelled'
    | 'running'
    | 'executed'
    | 'failed'
    | 'waiting'
    | 'expired';
}

/** The audit facts of a pending request (for events that arrive without the request in flight). */
export function factsOf(p: PendingRequest): RequestFacts {
  const d = p.detail;
  const res = d.subresource ? `${d.resource}/${d.subresource}` : d.resource;
  return {
    request_id: p.id,
    cluster: d.cluster,
    action: `${d.verb} ${d.group ? `${d.group}/` : ''}${d.version} ${res}`.trim(),
    resource: p.target,
    user: p.requester,
    risk: p.risk,
    reasons: p.reasons,
    policy: d.policy,
    fingerprint: p.fingerprint,
    ...(d.rollbackOf ? { origin: 'rollback' as const, rollback_of: d.rollbackOf } : {}),
  };
}

/** An approval for a request on one cluster never approves it, or anything, on another. */
export function forClusters(v: VerifiedApproval, clusters: string[]): void {
  const other = clusters.find((c) => !v.audience.includes(c));
  if (other)
    throw new ApprovalError(
      `approval token is not for cluster "${other}" (its audience: ${v.audience.join(', ')})`,
      'mismatch',
    );
}

/** A console approval's record carries its passkey assertion, re-checked by `audit verify`. */
function signedWith(v: VerifiedApproval): Record<string, unknown> {
  return v.passkey ? { via: 'console', passkey: v.passkey } : {};
}

/**
 * The one approval service: every entry point (the `Kubegate-Approval` header, the approvals
 * API, and whatever comes later) approves, rejects, revokes, freezes, holds, counts and spends
 * through here, with one rule and one error for each case.
 */
export class ApprovalService {
  private readonly changes = new EventEmitter();
  private stopNews: (() => void) | undefined;

  /** The hold under way (see hold()). */
  private holding: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: ApprovalDeps) {
    this.changes.setMaxListeners(0);
  }

  /** Called with a request id whenever its state or approvals change here (for live views). */
  onChange(listener: (change: RequestChange) => void): () => void {
    this.changes.on('change', listener);
    return () => this.changes.off('change', listener);
  }

  private changed(id: string | undefined, what: RequestChange['what']): void {
    if (id) this.changes.emit('change', { id, what });
  }

  /**
   * Verifies an approver's token for one action (signature, audience, lifetime, action). An action
   * on requests names their clusters: the token's audience must name each of them too.
   */
  async verify(token: unknown, action: ApprovalAction, clusters: string[] = []): Promise<VerifiedApproval> {
    const v = token instanceof PasskeyApproval ? this.passkeyApproval(token) : await this.jws(token);
    if (v.action !== action)
      throw new ApprovalError(`token is for "${v.action}", not "${action}"`, 'invalid');
    forClusters(v, clusters);
    return v;
  }

  private jws(token: unknown): Promise<VerifiedApproval> {
    if (typeof token !== 'string' || !token) throw new ApprovalError('missing approver token', 'invalid');
    return verifyApproval(token, this.d.jwks(), {
      audience: this.d.config.cluster_name,
      maxTtlSeconds: this.d.config.execution.max_token_ttl_seconds,
    });
  }

  /** A passkey approval (its assertion already verified): the same audience, life and approver list. */
  private passkeyApproval(p: PasskeyApproval): VerifiedApproval {
    const v = p.verified;
    if (!v.audience.includes(this.d.config.cluster_name))
      throw new ApprovalError('passkey approval is for another cluster', 'invalid');
    if (v.exp - v.iat > this.d.config.execution.max_token_ttl_seconds || v.exp * 1000 < Date.now())
      throw new ApprovalError('passkey approval expired', 'expired');
    if (!this.d.jwks().keys.some((k) => k.name === v.approver))
      throw new ApprovalError(`${v.approver} is not an approver`, 'invalid');
    return v;
  }

  /**
   * The rules every approval meets, whichever way it arrives. Returns the request's last
   * withdrawal as checked: `keep` checks it again once the approval is stored.
   */
  private async admissible(
    v: VerifiedApproval,
    fingerprint: string,
    on: { requester: string; id?: string | undefined; groups?: string[] | undefined; plan?: boolean },
  ): Promise<number> {
    const { requester, id } = on;
    refuseOutOfScope(this.d.jwks(), v.approver, on.groups ?? [], id);
    if (!v.fingerprints?.includes(fingerprint))
      throw new ApprovalError('approval is for a different request', 'mismatch');
    if (id && v.requestIds && !v.requestIds.includes(id))
      throw new ApprovalError(
        `fingerprint ${fingerprint} belongs to ${id}, not to ${v.requestIds.join(', ')}`,
        'mismatch',
      );
    if (v.approver === requester)
      throw new ApprovalError(
        `${v.approver} cannot approve their own request${id ? ` ${id}` : ''}`,
        'self-approval',
      );
    const last = await this.d.store.withdrawnAt(fingerprint);
    if (signedBeforeWithdrawal(v, fingerprint, last, { plan: !!on.plan }))
      throw new ApprovalError(SIGNED_BEFORE_WITHDRAWAL, 'conflict');
    return last;
  }

  /** Stores one approval of one fingerprint (a plan token: one per fingerprint) and records it. */
  private async keep(
    v: VerifiedApproval,
    fingerprint: string,
    facts: RequestFacts,
    extra: { via?: string; requestId?: string; seen?: unknown; withdrawnAt: number },
  ) {
    const bound = versionSeen(v, fingerprint);
    // the object the approver saw, when it is the version the approval names
    const seenHash =
      bound && resourceVersionOf(extra.seen) === bound ? objectContentHash(extra.seen) : undefined;
    const stored: StoredApproval = {
      jti: approvalJti(v.jti, v.fingerprints ?? [], fingerprint),
      fingerprint,
      approver: v.approver,
      kid: v.kid,
      override: !!v.override,
      reason: v.reason ?? '',
      exp: v.exp,
      ...(extra.requestId ? { requestId: extra.requestId } : {}),
      ...(bound ? { resourceVersion: bound } : {}),
      ...(seenHash ? { objectHash: seenHash } : {}),
      ...(v.planId ? { planId: v.planId } : {}),
    };
    if (!(await this.d.store.addApproval(stored)))
      throw new ApprovalError('approval token was already used (replay)', 'replayed');
    await this.notWithdrawnSince(stored, extra.withdrawnAt);
    await this.d.audit.record({ ...facts, ...(v.planId ? { plan_id: v.planId } : {}) }, 'approved', {
      approver: v.approver,
      status: 'approved',
      override: !!v.override,
      ...(v.reason ? { reason: v.reason } : {}),
      ...(v.blind ? { blind: true } : {}),
      ...(extra.via ? { via: extra.via } : {}),
      ...signedWith(v),
    });
    this.d.notifier.notify(fingerprint, { kind: 'approved' });
    this.changed(
      extra.requestId ?? (await this.d.store.findPendingByFingerprint(fingerprint))?.id,
      'approved',
    );
  }

  /**
   * A withdrawal that came between an approval's check and its storing (another replica's reject,
   * revoke or run) missed it: it is revoked here. A withdrawal marks before it revokes, so one of
   * the two always sees the other.
   */
  private async notWithdrawnSince(stored: StoredApproval, checked: number): Promise<void> {
    if ((await this.d.store.withdrawnAt(stored.fingerprint)) === checked) return;
    await this.d.store.revokeApprovals({ jtis: [stored.jti] }, Date.now());
    throw new ApprovalError(SIGNED_BEFORE_WITHDRAWAL, 'conflict');
  }

  /**
   * A kubegate plan's approval counts for that plan's run only: never as a request's approval.
   * A `plan-…` id that is no plan yet is refused too, so a later plan never shares its audit label.
   */
  private async notAPlanToken(v: VerifiedApproval): Promise<void> {
    if (v.planId && (isPlanId(v.planId) || (await this.d.store.getPlan(v.planId))))
      throw new ApprovalError(
        `this approval is for plan ${v.planId}: it counts only when that plan runs`,
        'mismatch',
      );
    // several requests at once: each binds to its object as shown, as a single approval does
    if ((v.fingerprints?.length ?? 0) > 1 && !v.resourceVersions)
      throw new ApprovalError(
        'an approval of several requests must name the resourceVersion of each object the approver saw (resourceVersions)',
        'invalid',
      );
  }

  /** An approval token sent to the approvals API: every fingerprint it names must be pending. */
  async approve(token: unknown): Promise<{ approver: string; approved: PendingRequest[] }> {
    const v = await this.verify(token, 'approve');
    await this.notAPlanToken(v);
    const targets: { p: PendingRequest; withdrawnAt: number }[] = [];
    for (const fp of v.fingerprints ?? []) {
      const p = await this.d.store.findPendingByFingerprint(fp);
      if (!p || p.status !== 'pending')
        throw new ApprovalError(
          `no pending request has fingerprint ${fp} (already run, rejected, cancelled, or never held)`,
          'not-found',
        );
      forClusters(v, [p.detail.cluster]);
      const withdrawnAt = await this.admissible(v, fp, {
        requester: p.requester,
        id: p.id,
        groups: p.detail.approvals_from,
      });
      targets.push({ p, withdrawnAt });
    }
    for (const { p, withdrawnAt } of targets)
      await this.keep(v, p.fingerprint, factsOf(p), {
        requestId: p.id,
        seen: p.detail.oldObject,
        withdrawnAt,
      });
    const approved = targets.map((t) => t.p);
    this.d.logger.info({ approver: v.approver, requests: approved.map((t) => t.id) }, 'approved');
    return { approver: v.approver, approved };
  }

  /**
   * One approval of a whole plan: a token naming the plan and exactly its steps' fingerprints,
   * in order. Stored once per step, bound to the plan; the plan service records it.
   */
  async approvePlan(
    token: unknown,
    plan: {
      id: string;
      requester: string;
      fingerprints: string[];
      clusters: string[];
      proposedBy?: string;
      groups?: string[];
    },
  ): Promise<VerifiedApproval> {
    const v = await this.verify(token, 'approve', plan.clusters);
    if (v.planId !== plan.id)
      throw new ApprovalError(
        `approval is for ${v.planId ?? 'a single request'}, not for plan ${plan.id}`,
        'mismatch',
      );
    const fps = v.fingerprints ?? [];
    if (fps.length !== plan.fingerprints.length || fps.some((f, i) => f !== plan.fingerprints[i]))
      throw new ApprovalError(`approval is for other steps than plan ${plan.id} holds now`, 'mismatch');
    if (plan.proposedBy === v.approver)
      throw new ApprovalError(
        `${v.approver} proposed ${plan.id} and cannot also approve it`,
        'self-approval',
      );
    for (const fp of fps)
      await this.admissible(v, fp, {
        requester: plan.requester,
        id: plan.id,
        groups: plan.groups,
        plan: true,
      });
    for (const fp of fps) {
      const stored: StoredApproval = {
        jti: approvalJti(v.jti, fps, fp),
        fingerprint: fp,
        approver: v.approver,
        kid: v.kid,
        override: !!v.override,
        reason: v.reason ?? '',
        exp: v.exp,
        planId: plan.id,
        boundToPlan: plan.id,
      };
      if (!(await this.d.store.addApproval(stored)))
        throw new ApprovalError('approval token was already used (replay)', 'replayed');
    }
    this.changed(plan.id, 'approved');
    return v;
  }

  /** Withdraws the approvals of a plan's steps (rejected or cancelled before it ran). */
  async withdrawPlan(fingerprints: string[]): Promise<void> {
    const now = Date.now();
    for (const fp of fingerprints) await this.withdraw(fp, now);
  }

  /** Tokens sent with the request itself in `Kubegate-Approval` (refused: 403 and on record). */
  async acceptWithRequest(
    tokens: string[],
    fingerprint: string,
    requester: string,
    facts: RequestFacts,
    groups: string[] = [],
    live?: unknown,
  ) {
    for (const token of tokens) {
      try {
        const v = await this.verify(token, 'approve', [facts.cluster]);
        await this.notAPlanToken(v);
        const held = await this.heldFor(v, fingerprint);
        const withdrawnAt = await this.admissible(v, fingerprint, { requester, id: held, groups });
        // recorded on the held request it approves (this pass has an id of its own)
        await this.keep(
          v,
          fingerprint,
          { ...facts, request_id: held },
          { via: 'header', seen: live, withdrawnAt, requestId: held },
        );
      } catch (err) {
        if (!(err instanceof ApprovalError)) throw err;
        await this.d.audit.record(facts, 'rejected', {
          status: 'refused',
          message: `approval refused: ${err.message}`,
        });
        throw new StatusError(403, 'Forbidden', `approval refused: ${err.message}`);
      }
    }
  }

  /**
   * The held request a header token approves: it must name requests (approve-cli's tokens do), and
   * counts only while one of them waits with this fingerprint. While it runs, and once it ran or
   * was rejected or expired, a spare token of it is no approval of the same change sent again. A
   * token naming none would approve whichever identical request brings it: two such tokens sent
   * at once ran the change twice (bypass round 16).
   */
  private async heldFor(v: VerifiedApproval, fingerprint: string): Promise<string> {
    if (!v.requestIds?.length)
      throw new ApprovalError(
        'a Kubegate-Approval token must name the held request it approves (approve-cli approve ID --print)',
        'invalid',
      );
    const held = await this.d.store.findPendingByFingerprint(fingerprint, ['pending']);
    if (!held || !v.requestIds.includes(held.id))
      throw new ApprovalError(
        `this approval is for ${v.requestIds.join(', ')}, which is no longer held (it is running or ran, or was rejected, cancelled or expired): ask for a new approval`,
        'not-found',
      );
    return held.id;
  }

  /** A single-use action token (reject, revoke) naming the request, and that request. */
  private async actionOn(token: unknown, action: 'reject' | 'revoke', id: string) {
    const v = await this.verify(token, action);
    if (!v.requestIds?.includes(id)) throw new ApprovalError('token does not name this request', 'mismatch');
    if (!(await this.d.store.useJti(v.jti, v.exp)))
      throw new ApprovalError('token was already used (replay)', 'replayed');
    const p = await this.d.store.getPending(id);
    if (!p) throw new ApprovalError(`no request ${id}`, 'not-found');
    return { v, p };
  }

  /** Withdraws every approval of a request, stored or still unsent. */
  private async withdraw(fingerprint: string, now = Date.now()): Promise<number> {
    // marked first: an approval stored meanwhile is revoked below, or sees the mark (keep)
    await this.markWithdrawn(fingerprint, now);
    return this.d.store.revokeApprovals({ fingerprint }, now);
  }

  /**
   * A new last withdrawal, never equal to the one before: tokens name the one their approver saw,
   * so two withdrawals in one millisecond must not look like one.
   */
  private async markWithdrawn(fingerprint: string, now: number): Promise<void> {
    const before = await this.d.store.withdrawnAt(fingerprint);
    await this.d.store.markWithdrawn(fingerprint, Math.max(now, before + 1));
  }

  async reject(token: unknown, id: string): Promise<void> {
    const { v, p } = await this.actionOn(token, 'reject', id);
    const reason = v.reason ?? 'no reason given';
    const message = `rejected by ${v.approver}: ${reason}`;
    // while it runs too: if nothing runs after all (a refused upgrade), it stays rejected, and the
    // approvals it spent do not come back (bypass round 17); one already sent may still complete
    if (!(await this.d.store.transitionPending(id, ['pending', 'approved'], 'rejected', message)))
      throw new ApprovalError(`${id} is ${p.status}, not pending or running`, 'conflict');
    await this.withdraw(p.fingerprint);
    await this.d.audit.record(factsOf(p), 'rejected', {
      approver: v.approver,
      status: 'rejected',
      reason,
      ...(p.status === 'approved'
        ? { message: 'rejected while it ran: a change already sent may complete' }
        : {}),
      ...signedWith(v),
    });
    this.d.notifier.notify(p.fingerprint, { kind: 'rejected', message });
    this.changed(id, 'rejected');
  }

  async revoke(token: unknown, id: string): Promise<number> {
    const { v, p } = await this.actionOn(token, 'revoke', id);
    const n = await this.withdraw(p.fingerprint);
    await this.d.audit.record(factsOf(p), 'revoked', {
      approver: v.approver,
      status: 'revoked',
      revoked: n,
      ...signedWith(v),
    });
    this.changed(id, 'revoked');
    return n;
  }

  /** Cancels a pending (or approved, not yet run) request: displaced, or frozen. */
  async cancel(p: PendingRequest, message: string, opts: { frozen?: boolean } = {}) {
    const from: PendingRequest['status'][] = opts.frozen ? ['pending', 'approved'] : ['pending'];
    if (!(await this.d.store.transitionPending(p.id, from, 'cancelled', message))) return false;
    // a freeze withdraws what was approved; a displaced request may be sent again with its approvals
    if (opts.frozen) await this.withdraw(p.fingerprint);
    await this.d.audit.record(factsOf(p), 'cancelled', { status: 'refused', message });
    this.d.notifier.notify(p.fingerprint, { kind: 'cancelled', message });
    this.changed(p.id, 'cancelled');
    return true;
  }

  /**
   * Requests nobody approved or rejected within `maxAgeMs` expire, their approvals withdrawn: a
   * stale approval must not run a day-old change. The requester re-runs the command to ask again.
   */
  async expire(maxAgeMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    for (const p of await this.d.store.listPending(['pending'])) {
      if (p.createdAt > now - maxAgeMs) continue;
      const message = `expired: nobody approved or rejected it within ${Math.round(maxAgeMs / 1000)}s; run it again to ask again`;
      if (!(await this.d.store.transitionPending(p.id, ['pending'], 'expired', message))) continue;
      await this.withdraw(p.fingerprint, now);
      await this.d.audit.record(factsOf(p), 'expired', { status: 'expired', message });
      this.d.notifier.notify(p.fingerprint, { kind: 'cancelled', message });
      this.changed(p.id, 'expired');
      n++;
    }
    return n + (await this.endInterrupted(maxAgeMs, now));
  }

  /**
   * A request still running `maxAgeMs` after it was approved never had its outcome stored (its
   * replica stopped mid-run): it is marked failed, so an identical request is held afresh instead
   * of waiting on it. Its audit has an `interrupted` record; the object may have been changed.
   */
  private async endInterrupted(maxAgeMs: number, now: number): Promise<number> {
    let n = 0;
    for (const p of await this.d.store.listPending(['approved'])) {
      if (p.updatedAt > now - maxAgeMs) continue;
      const message = 'interrupted: kubegate stopped before the outcome was stored; check the object';
      if (!(await this.d.store.transitionPending(p.id, ['approved'], 'failed', message))) continue;
      await this.withdraw(p.fingerprint, now);
      await this.d.audit.record(factsOf(p), 'failed', { status: 'unknown', message });
      this.changed(p.id, 'failed');
      n++;
    }
    return n;
  }

  /** The emergency stop: on cancels everything pending; off lets changes through again. */
  async freeze(token: unknown): Promise<{ on: boolean; by: string; cancelled: number }> {
    const v = await this.verify(token, 'freeze');
    if (typeof v.freeze !== 'boolean') throw new ApprovalError('freeze token must say on or off', 'invalid');
    if (!(await this.d.store.useJti(v.jti, v.exp)))
      throw new ApprovalError('token was already used (replay)', 'replayed');
    await this.d.store.setFreeze({
      on: v.freeze,
      by: v.approver,
      at: Date.now(),
      ...(v.reason ? { reason: v.reason } : {}),
    });
    let cancelled = 0;
    if (v.freeze) {
      for (const p of await this.d.store.listPending(['pending', 'approved']))
        if (await this.cancel(p, `cancelled by emergency freeze (${v.approver})`, { frozen: true }))
          cancelled++;
      cancelled += await this.freezePlans(v.approver);
    }
    await this.d.log.append({
      event: v.freeze ? 'freeze' : 'unfreeze',
      approver: v.approver,
      status: v.freeze ? 'frozen' : 'unfrozen',
      cancelled,
      ...(v.reason ? { reason: v.reason } : {}),
      ...signedWith(v),
    });
    this.d.logger.warn(
      { by: v.approver, on: v.freeze, cancelled },
      v.freeze ? 'EMERGENCY FREEZE ON' : 'freeze off',
    );
    return { on: v.freeze, by: v.approver, cancelled };
  }

  /** A freeze cancels held plans (their approvals withdrawn) and stops running ones after their current step. */
  private async freezePlans(by: string): Promise<number> {
    let n = 0;
    for (const plan of await this.d.store.listPlans()) {
      const at = Date.now();
      const after = await this.d.store.updatePlan(plan.id, (p) => {
        if (p.status === 'running' && !p.stopRequested)
          return { ...p, stopRequested: { by: `emergency freeze (${by})`, at }, updatedAt: at };
        if (p.status !== 'pending' && p.status !== 'approved') return undefined;
        return { ...p, status: 'cancelled', message: `cancelled by emergency freeze (${by})`, updatedAt: at };
      });
      if (after?.status !== 'cancelled' || after.updatedAt !== at) continue;
      await this.withdrawPlan(after.steps.map((st) => st.fingerprint));
      await this.d.log.append({
        event: 'plan_finished',
        plan_id: after.id,
        status: 'cancelled',
        message: after.message,
      });
      n++;
    }
    return n;
  }

  /**
   * Holds a request as pending; past the cap, displaces the flooder's oldest (its own first).
   * One hold at a time in this process: the count and the insert are then one step, and many
   * holds at once cannot all see room under `limits.max_held_requests` and all go in.
   */
  hold(incoming: PendingRequest): Promise<PendingRequest> {
    const turn = this.holding.then(() => this.holdNow(incoming));
    this.holding = turn.catch(() => undefined);
    return turn;
  }

  private async holdNow(incoming: PendingRequest): Promise<PendingRequest> {
    const lim = this.d.config.limits;
    const p = { ...incoming, bytes: Buffer.byteLength(JSON.stringify(incoming.detail)) };
    const count = await this.d.store.countPending();
    if (count >= lim.max_held_requests) {
      const message = `displaced: more than ${lim.max_held_requests} requests were pending`;
      const all = await this.d.store.listPending(['pending']);
      for (const o of displaceable(all, p.requester, count - lim.max_held_requests + 1))
        await this.cancel(o, message);
    }
    // Small requests are bounded by the count above (1000 × a few KiB); only a large one makes the
    // byte shares worth reading every pending request for.
    if (p.bytes > LARGE_HELD_BYTES) await this.makeRoomFor(p);
    await this.d.store.putPending(p);
    this.changed(p.id, 'held');
    return p;
  }

  private async makeRoomFor(p: PendingRequest): Promise<void> {
    const lim = this.d.config.limits;
    const max = { perCaller: lim.max_held_bytes_per_caller, total: lim.max_held_bytes };
    const all = await this.d.store.listPending(['pending']);
    for (const o of overBytes(all, p, max))
      await this.cancel(
        o,
        `displaced: held requests may keep at most ${max.perCaller} bytes per requester and ${max.total} in all`,
      );
  }

  /**
   * Whether the live approvals of a fingerprint are enough. An approval given to a plan's step
   * counts only when that plan runs the step (`plan`): the same request sent on its own, out of
   * the plan's order and checks, was not what the approvers approved.
   */
  async count(
    fingerprint: string,
    need: Need,
    requester: string,
    resourceVersion: string | undefined,
    plan?: string,
    liveObject?: unknown,
  ) {
    const all = await this.d.store.approvalsFor(fingerprint, Date.now());
    // a plan is approved whole: its steps count its own approvals, never approvals of single requests
    const live = all.filter((a) => (plan ? a.boundToPlan === plan : !a.boundToPlan));
    const objectHash = objectContentHash(liveObject);
    const verdict: Verdict = countApprovals(live, need, {
      allowCritical: this.d.config.safety.allow_critical,
      requester,
      resourceVersion,
      ...(objectHash ? { objectHash } : {}),
      groupsOf: (approver) => groupsOf(this.d.jwks(), approver),
    });
    return { verdict, live };
  }

  /**
   * Spends the approvals of one run: the pending request moves to approved (one winner), and
   * every live approval is consumed — a second approval must not run the change again.
   */
  async spend(pending: HeldRef | undefined, live: StoredApproval[]): Promise<void> {
    // from pending only: a held request runs once, and a second run while the first is still
    // going (approved) would spend another approval on the same request
    if (pending && !(await this.d.store.transitionPending(pending.id, ['pending'], 'approved')))
      throw new StatusError(409, 'Conflict', `request ${pending.id} is no longer pending`);
    if (
      !(await this.d.store.consumeApprovals(
        live.map((a) => a.jti),
        Date.now(),
      ))
    ) {
      // nothing ran: a revoke, or another run, took the approvals first; the request waits again
      // (left approved, nothing would ever run or expire it)
      if (pending) await this.d.store.transitionPending(pending.id, ['approved'], 'pending');
      throw new StatusError(
        409,
        'Conflict',
        'the approval was used by another request at the same moment; run it again',
      );
    }
    this.changed(pending?.id, 'running');
  }

  /** The outcome of a spent approval: executed or failed, or given back when nothing ran. */
  async settle(
    pending: HeldRef | undefined,
    jtis: string[],
    outcome: 'executed' | 'failed' | 'give-back',
    message: string,
    ran?: { fingerprint: string; plan?: string | undefined },
  ) {
    if (outcome === 'give-back') {
      await this.d.store.releaseApprovals(jtis);
      if (pending) await this.d.store.transitionPending(pending.id, ['approved'], 'pending');
      if (pending) this.d.notifier.notify(pending.fingerprint, { kind: 'approved' });
      this.changed(pending?.id, 'waiting');
      return;
    }
    // a run that was sent is what happened, even if a reject or a freeze came while it ran
    if (pending)
      await this.d.store.transitionPending(
        pending.id,
        ['approved', 'rejected', 'cancelled'],
        outcome,
        message,
      );
    if (ran && jtis.length) {
      // a token signed before the run, used or not, approved this run (done, failed, or of an
      // unknown outcome: sent, so maybe applied): it approves no other
      await this.markWithdrawn(ran.fingerprint, Date.now());
      await this.revokeLate(ran, jtis);
    }
    this.changed(pending?.id, outcome);
  }

  /**
   * Approvals of a request that ran, stored after its approvals were counted (another approver at
   * the same moment, or a batch stored while this request ran): they approved the run that just
   * happened, and must not pay for the same change again.
   */
  private async revokeLate(ran: { fingerprint: string; plan?: string | undefined }, spent: string[]) {
    const left = (await this.d.store.approvalsFor(ran.fingerprint, Date.now())).filter(
      (a) => a.boundToPlan === ran.plan && !spent.includes(a.jti),
    );
    if (!left.length) return;
    await this.d.store.revokeApprovals({ jtis: left.map((a) => a.jti) }, Date.now());
    this.d.logger.info(
      { fingerprint: ran.fingerprint, approvers: left.map((a) => a.approver) },
      'approvals that came while the request ran were spent with it',
    );
  }

  /** The approver groups a request still needs, given its live approvals (for `show`). */
  groupsNeeded(p: PendingRequest, live: StoredApproval[]): string[] {
    const groups = p.detail.approvals_from ?? [];
    if (!groups.length) return [];
    const approvers = [...new Set(live.filter((a) => a.approver !== p.requester).map((a) => a.approver))];
    return coverGroups(approvers, groups, (a) => groupsOf(this.d.jwks(), a)).missing;
  }

  /**
   * Waits for news of a held request: an event here, or a change any replica made, learnt from the
   * store's one change feed (a watch, or a poll), started with the first wait. Held requests never
   * poll the store each on its own.
   */
  wait(
    fingerprint: string,
    ms: number,
    gone: Gone,
    since?: number,
  ): Promise<HoldEvent | 'timeout' | 'aborted'> {
    this.watchStore();
    return this.d.notifier.wait(fingerprint, ms, gone, [this.d.store.newsKey(fingerprint), ALL], since);
  }

  /** `wait` for a parked request: the waiter itself is told (no promise, no closure per request). */
  park(waiter: Waiter, fingerprint: string, ms: number, gone: Gone, since: number): void {
    this.watchStore();
    this.d.notifier.park(waiter, fingerprint, ms, gone, [this.d.store.newsKey(fingerprint), ALL], since);
  }

  /**
   * Where news stands now: taken before counting approvals, given to `wait` after (no lost
   * wake-up). The store's feed is running from here on, so a change another replica makes after
   * the count is news too.
   */
  newsMark(): number {
    this.watchStore();
    return this.d.notifier.mark();
  }

  private watchStore(): void {
    this.stopNews ??= this.d.store.watchNews((key) => this.d.notifier.notify(key, { kind: 'news' }));
  }

  /** Stops the store's change feed (at shutdown). */
  close(): void {
    this.stopNews?.();
    this.stopNews = undefined;
  }
}

/**
 * The object version an approval of `fingerprint` is bound to: the one its approver saw
 * (`resourceVersion` of a one-request token, the matching entry of `resourceVersions` of a
 * token for several); none for a plan's steps (their run checks drift) or a create.
 */
function versionSeen(v: VerifiedApproval, fingerprint: string): string | undefined {
  const all = v.fingerprints ?? [];
  const version = all.length === 1 ? v.resourceVersion : v.resourceVersions?.[all.indexOf(fingerprint)];
  return version || undefined;
}
