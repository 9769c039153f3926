import type { VerifiedApproval } from './token.js';

/** How far ahead of kubegate an approver's clock may run (the token checks allow as much). */
export const CLOCK_TOLERANCE_SECONDS = 30;

/** How far a token's `signedAt` (ms) may be from its `iat` (s): one clock set both. */
export const SIGNED_AT_SLACK_MS = 2000;

/**
 * Whether an approval of `fingerprint` was signed before the last withdrawal of that request's
 * approvals (`last`: kubegate's clock, ms, 0 for none — a reject, revoke, expiry or run).
 *
 * A token that says which withdrawal its approver's view showed (`withdrawals`, read from
 * kubegate) is compared with it exactly, so no approver's clock matters. One that does not is
 * judged by its signing time, allowing for an approver clock running up to the tolerance ahead
 * (and signedAt's slack): it must be signed that long after the withdrawal. A plan's approval is
 * judged by its signing time alone: it names its plan, and counts only for that plan's one run.
 */
export function signedBeforeWithdrawal(
  v: VerifiedApproval,
  fingerprint: string,
  last: number,
  opts: { plan?: boolean } = {},
): boolean {
  const seen = v.withdrawals?.[(v.fingerprints ?? []).indexOf(fingerprint)];
  if (seen !== undefined && !opts.plan) return seen !== last;
  if (!last) return false;
  const signed = v.signedAt ?? v.iat * 1000;
  const ahead = opts.plan ? 0 : CLOCK_TOLERANCE_SECONDS * 1000 + SIGNED_AT_SLACK_MS;
  return signed - ahead <= last;
}

/** Why such an approval does not count, and what to do. */
export const SIGNED_BEFORE_WITHDRAWAL =
  'this approval was signed before the request was rejected, revoked or run: read the request again and sign a new approval';
