import { describe, expect, it } from 'vitest';
import { displaceable } from '../../src/approval/displace.js';
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
