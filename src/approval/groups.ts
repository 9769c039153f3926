import type { ApproverJwks } from '../wire/approver-key.js';
import { ApprovalError } from './token.js';

/** An approver's groups: from kubegate's approvers file (every key of that name), never from a token. */
export function groupsOf(jwks: ApproverJwks, approver: string): Set<string> {
  const out = new Set<string>();
  for (const k of jwks.keys) if (k.name === approver) for (const g of k.groups ?? []) out.add(g);
  return out;
}

/**
 * Assigns one distinct approver to each required group (a maximum bipartite matching, so
 * alice in both sre and security cannot cover both). Returns the assignment and the groups left.
 */
export function coverGroups(
  approvers: string[],
  groups: string[],
  groupsOfApprover: (approver: string) => Set<string>,
): { byGroup: Map<string, string>; missing: string[] } {
  const holder = new Map<string, string>(); // approver -> group
  const byGroup = new Map<string, string>(); // group -> approver
  const tryAssign = (group: string, seen: Set<string>): boolean => {
    for (const a of approvers) {
      if (seen.has(a) || !groupsOfApprover(a).has(group)) continue;
      seen.add(a);
      const other = holder.get(a);
      if (other === undefined || tryAssign(other, seen)) {
        holder.set(a, group);
        byGroup.set(group, a);
        return true;
      }
    }
    return false;
  };
  for (const g of groups) tryAssign(g, new Set());
  return { byGroup, missing: groups.filter((g) => !byGroup.has(g)) };
}

/**
 * Where a request names approver groups, an approval from someone in none of them counts for
 * nothing: refused when given, so the approver learns it at once.
 */
export function refuseOutOfScope(jwks: ApproverJwks, approver: string, groups: string[], id?: string): void {
  if (!groups.length) return;
  const mine = groupsOf(jwks, approver);
  if (groups.some((g) => mine.has(g))) return;
  throw new ApprovalError(
    `${approver} may not approve ${id ?? 'this request'}: it needs approvers from ${groups.join(', ')}, and kubegate's approvers file puts ${approver} in ${mine.size ? [...mine].sort().join(', ') : 'no group'}`,
    'out-of-scope',
  );
}
