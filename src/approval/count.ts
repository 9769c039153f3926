import type { StoredApproval } from '../state/store.js';

export type Verdict = { ok: true; use: StoredApproval[] } | { ok: false; why: string };

export interface Need {
  approvals: number;
  override_required: boolean;
}

/**
 * Whether the live approvals of one request are enough: one per person (never
 * the requester), each still bound to the object version the approver saw, an
 * override where CRITICAL needs one, and as many different people as required.
 */
export function countApprovals(
  live: StoredApproval[],
  need: Need,
  opts: { allowCritical: boolean; requester: string; resourceVersion: string | undefined },
): Verdict {
  const mine = live.filter((a) => a.approver !== opts.requester);
  const fresh = mine.filter((a) => !a.resourceVersion || a.resourceVersion === opts.resourceVersion);
  const drifted = mine.length > fresh.length;
  // where a person signed twice, keep the approval carrying an override
  const byApprover = new Map<string, StoredApproval>();
  for (const a of fresh) {
    const seen = byApprover.get(a.approver);
    if (!seen || (a.override && !seen.override)) byApprover.set(a.approver, a);
  }
  const distinct = [...byApprover.values()];
  if (need.override_required && !(opts.allowCritical || distinct.some((a) => a.override))) {
    return {
      ok: false,
      why: `CRITICAL needs an override (approve with --override --reason) and ${need.approvals} different approvers`,
    };
  }
  if (distinct.length < need.approvals) {
    const have = distinct.length ? ` (have ${distinct.map((a) => a.approver).join(', ')})` : '';
    const drift = drifted
      ? '; an earlier approval no longer applies because the object changed since it was approved'
      : '';
    return {
      ok: false,
      why: `needs ${need.approvals} approval${need.approvals > 1 ? 's from different approvers' : ''}${have}${drift}`,
    };
  }
  distinct.sort((a, b) => Number(b.override) - Number(a.override));
  return { ok: true, use: distinct.slice(0, Math.max(1, need.approvals)) };
}
