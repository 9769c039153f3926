import type { PendingRequest } from '../wire/request-view.js';

/**
 * The `n` pending requests to displace for `requester`'s new one: its own oldest first, then the
 * oldest of whoever holds the most. Never someone else's while the flooder has any left.
 */
export function displaceable(pending: PendingRequest[], requester: string, n: number): PendingRequest[] {
  const byUser = new Map<string, PendingRequest[]>();
  for (const p of [...pending].sort((a, b) => a.createdAt - b.createdAt)) {
    const list = byUser.get(p.requester) ?? [];
    list.push(p);
    byUser.set(p.requester, list);
  }
  const out: PendingRequest[] = [];
  while (out.length < n && byUser.size > 0) {
    const own = byUser.get(requester);
    const from = own?.length
      ? requester
      : [...byUser.entries()].sort((a, b) => b[1].length - a[1].length)[0]![0];
    const list = byUser.get(from)!;
    out.push(list.shift()!);
    if (list.length === 0) byUser.delete(from);
  }
  return out;
}
