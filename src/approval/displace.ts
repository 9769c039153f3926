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

export interface HeldBytes {
  perCaller: number;
  total: number;
}

/**
 * Held requests keep their bodies until decided: past a caller's share or the total, the
 * pending requests to displace for `incoming` — the caller's own oldest first, then (for the
 * total) the oldest of whoever holds the most bytes.
 */
export function overBytes(
  pending: PendingRequest[],
  incoming: PendingRequest,
  max: HeldBytes,
): PendingRequest[] {
  const size = (p: PendingRequest) => p.bytes ?? 0;
  const oldest = [...pending].sort((a, b) => a.createdAt - b.createdAt);
  const bytesOf = (user: string) =>
    oldest.filter((p) => p.requester === user).reduce((n, p) => n + size(p), 0);
  const out: PendingRequest[] = [];
  let mine = bytesOf(incoming.requester) + size(incoming);
  let total = oldest.reduce((n, p) => n + size(p), 0) + size(incoming);
  const take = (p: PendingRequest) => {
    out.push(p);
    oldest.splice(oldest.indexOf(p), 1);
    total -= size(p);
    if (p.requester === incoming.requester) mine -= size(p);
  };
  for (
    let p = oldest.find((o) => o.requester === incoming.requester);
    p && (mine > max.perCaller || total > max.total);
    p = oldest.find((o) => o.requester === incoming.requester)
  )
    take(p);
  while (total > max.total && oldest.length) {
    const users = [...new Set(oldest.map((p) => p.requester))];
    const biggest = users.sort((a, b) => bytesOf(b) - bytesOf(a))[0]!;
    take(oldest.find((p) => p.requester === biggest)!);
  }
  return out;
}
