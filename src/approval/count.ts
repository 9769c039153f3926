import type { StoredApproval } from '../state/store.js';
import { coverGroups } from './groups.js';

export type Verdict = { ok: true; use: StoredApproval[] } | { ok: false; why: string };

export interface Need {
  approvals: number;
  override_required: boolean;
  /** Approver groups: one distinct approver from each (on top of the count). */
  approvals_from?: string[];
}

/**
 * Whether the live approvals of one request are enough: one per person (never
 * the requester), each still bound to the object version the approver saw, an
 * override where CRITICAL needs one, and as many different people as required.
 */
export function countApprovals(
  live: StoredApproval[],
  need: Need,
  opts: {
    allowCritical: boolean;
    requester: string;
    resourceVersion: string | undefined;
    groupsOf?: (approver: string) => Set<string>;
  },
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
  const groups = need.approvals_from ?? [];
  const required = Math.max(need.approvals, groups.length);
  if (need.override_required && !(opts.allowCritical || distinct.some((a) => a.override))) {
    return {
      ok: false,
      why: `CRITICAL needs an override (approve with --override --reason) and ${required} different approvers${groups.length ? ` (one from each group: ${groups.join(', ')})` : ''}`,
    };
  }
  const cover = coverGroups(
    distinct.map((a) => a.approver),
    groups,
    opts.groupsOf ?? (() => new Set()),
  );
  if (cover.missing.length) return { ok: false, why: missingGroups(cover.missing, distinct, drifted) };
  if (distinct.length < required) {
    const have = distinct.length ? ` (have ${distinct.map((a) => a.approver).join(', ')})` : '';
    const drift = drifted
      ? '; an earlier approval no longer applies because the object changed since it was approved'
      : '';
    return {
      ok: false,
      why: `needs ${required} approval${required > 1 ? 's from different approvers' : ''}${have}${drift}`,
    };
  }
  // the approvers covering the groups first, then overrides, then the rest
  const covering = new Set(cover.byGroup.values());
  const rank = (a: StoredApproval) => (covering.has(a.approver) ? 2 : 0) + Number(a.override);
  distinct.sort((a, b) => rank(b) - rank(a));
  return { ok: true, use: distinct.slice(0, Math.max(1, required)) };
}

function missingGroups(missing: string[], distinct: StoredApproval[], drifted: boolean): string {
  const have = distinct.length ? ` (have ${distinct.map((a) => a.approver).join(', ')})` : '';
  const drift = drifted ? '; an earlier approval no longer applies because the object changed since' : '';
  return `needs an approver from group${missing.length > 1 ? 's' : ''} ${missing.join(' and ')}${have}${drift}`;
}
