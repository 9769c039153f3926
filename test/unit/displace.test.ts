import { describe, expect, it } from 'vitest';
import { displaceable, overBytes } from '../../src/approval/displace.js';
import type { PendingRequest } from '../../src/wire/request-view.js';

const p = (id: string, requester: string, createdAt: number) =>
  ({ id, requester, createdAt }) as PendingRequest;

describe('displaceable: who loses a pending request when the cap is reached', () => {
  const pending = [
    p('carol-1', 'carol', 1),
    p('agent-1', 'agent', 2),
    p('agent-2', 'agent', 3),
    p('bob-1', 'bob', 4),
  ];

  it("a flooder's new request displaces its own oldest, never someone else's", () => {
    expect(displaceable(pending, 'agent', 1).map((x) => x.id)).toEqual(['agent-1']);
    expect(displaceable(pending, 'agent', 2).map((x) => x.id)).toEqual(['agent-1', 'agent-2']);
  });

  it('a requester with nothing pending displaces the oldest of whoever holds the most', () => {
    expect(displaceable(pending, 'dave', 1).map((x) => x.id)).toEqual(['agent-1']);
    // after one, everyone holds one: the oldest request goes first
    expect(displaceable(pending, 'dave', 3).map((x) => x.id)).toEqual(['agent-1', 'carol-1', 'agent-2']);
  });
});

describe('overBytes: held requests keep bounded bytes', () => {
  const held = (id: string, requester: string, bytes: number, createdAt: number) =>
    ({ id, requester, bytes, createdAt }) as unknown as PendingRequest;

  it("displaces the requester's own oldest first until its share fits", () => {
    const pending = [held('a1', 'agent', 900, 1), held('a2', 'agent', 900, 2), held('c1', 'carol', 900, 3)];
    const out = overBytes(pending, held('a3', 'agent', 900, 4), { perCaller: 2000, total: 10_000 });
    expect(out.map((p) => p.id)).toEqual(['a1']);
  });

  it('past the total, takes from whoever holds the most bytes once the requester has none left', () => {
    const pending = [held('c1', 'carol', 500, 1), held('d1', 'dave', 3000, 2), held('d2', 'dave', 3000, 3)];
    const out = overBytes(pending, held('e1', 'erin', 1000, 4), { perCaller: 5000, total: 6000 });
    expect(out.map((p) => p.id)).toEqual(['d1']);
  });

  it('displaces nothing while within both', () => {
    expect(
      overBytes([held('a1', 'agent', 10, 1)], held('a2', 'agent', 10, 2), { perCaller: 100, total: 100 }),
    ).toEqual([]);
  });
});
