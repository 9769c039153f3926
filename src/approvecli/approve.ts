import type { ApprovalClaims } from '../wire/approval-token.js';
import { isRisk, RISKS } from '../wire/risk.js';
import type { PendingView } from './types.js';

/** The most severe risk class; a class approve-cli does not know counts as the most severe. */
export function highestRisk(risks: string[]): string {
  const rank = (r: string) => (isRisk(r) ? RISKS.indexOf(r) : RISKS.length);
  return risks.reduce((a, b) => (rank(b) > rank(a) ? b : a), risks[0] ?? RISKS[0]);
}

/**
 * `batch-YYYYMMDD-XXXXXXXX` (UTC date, eight random hex digits): the label of several requests
 * approved with one token. Never `plan-…`: those are kubegate's plans, and kubegate refuses a
 * request approval that names one (a random one collided with a real plan's id).
 */
export function newBatchId(now: Date, random: () => number = Math.random): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  const n = Math.floor(random() * 0x100000000) % 0x100000000;
  return `batch-${day}-${n.toString(16).padStart(8, '0')}`;
}

export interface ApprovalInput {
  /** The requests as shown, each with the fingerprint recomputed and checked here. */
  requests: { view: PendingView; fingerprint: string }[];
  override: boolean;
  reason?: string;
  planId?: string;
  /** Part of what is approved could not be shown, and the approver said --blind. */
  blind?: boolean;
}

/**
 * The claims of one approval token for one request or several: the verified fingerprints and
 * ids, the highest risk, the resourceVersion of each live object as shown, so an approval
 * lapses if its object changes first, and each request's last withdrawal as shown, so it lapses
 * if the request is rejected, revoked or run before it counts.
 */
export function approvalClaims(input: ApprovalInput): ApprovalClaims {
  const { requests } = input;
  const only = requests.length === 1 ? requests[0]!.view : undefined;
  return {
    action: 'approve',
    fingerprints: requests.map((r) => r.fingerprint),
    requestIds: requests.map((r) => r.view.id),
    risk: highestRisk(requests.map((r) => r.view.risk)),
    ...(input.override ? { override: true } : {}),
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(only?.detail.resourceVersion ? { resourceVersion: only.detail.resourceVersion } : {}),
    ...(only ? {} : { resourceVersions: requests.map((r) => r.view.detail.resourceVersion ?? '') }),
    withdrawals: requests.map((r) => r.view.withdrawn_at ?? 0),
    ...(input.planId ? { planId: input.planId } : {}),
    ...(input.blind ? { blind: true } : {}),
  };
}

/**
 * What this approver's approval does to one given before: counts once, or — when the object moved
 * since the request was held — replaces it (an earlier one may be bound to an older version).
 */
function againNote(view: PendingView, approver: string): string {
  if (!view.moved) return ` [${approver} had already approved it: counts once]`;
  return ` [replaces ${approver}'s earlier approval, which may be for an older version: this one is for resourceVersion ${view.moved.now}]`;
}

/** "approved req-… (1 of 2 approvals; …)": where the request stands once this approval counts. */
export function progressLine(view: PendingView, approver: string, override: boolean): string {
  const before = new Set(view.approvals.map((a) => a.approver));
  const again = before.has(approver);
  const n = new Set([...before, approver]).size;
  const m = Math.max(1, view.detail.approvals_required);
  const overrideMissing =
    view.detail.override_required && !override && !view.approvals.some((a) => a.override);
  const needs: string[] = [];
  if (n < m) needs.push(`needs ${m - n} more from ${m - n > 1 ? 'other approvers' : 'another approver'}`);
  if (overrideMissing) needs.push('and an approval with --override --reason');
  const state = needs.length ? needs.join(' ') : 'run the command again';
  // others' approvals from before the move are counted above, but kubegate may not count them
  const othersMayLapse = view.moved && [...before].some((a) => a !== approver);
  const lapse = othersMayLapse ? '; approvals signed before the object moved may no longer count' : '';
  return `approved ${view.id} (${n} of ${m} approvals; ${state}${lapse})${again ? againNote(view, approver) : ''}`;
}
