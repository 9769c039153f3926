import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/state/sqlite.js';
import type { PendingDetail, PendingRequest } from '../../../src/wire/request-view.js';
import { approvalGate } from '../fake-gate.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function service(maxHeld: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kg-held-cap-'));
  dirs.push(dir);
  const store = new SqliteStore(path.join(dir, 'state.db'));
  return approvalGate(store, dir, { limits: { max_held_requests: maxHeld } });
}

const pending = (i: number): PendingRequest => ({
  id: `req-cap-${i}`,
  fingerprint: `sha256:cap-${i}`,
  status: 'pending',
  requester: 'agent',
  risk: 'MEDIUM',
  reasons: ['test'],
  target: `default/configmaps/cap-${i}`,
  createdAt: Date.now() + i,
  updatedAt: Date.now() + i,
  detail: { cluster: 'c', verb: 'create', body: { i } } as unknown as PendingDetail,
});

describe('limits.max_held_requests', () => {
  it('holds no more than the cap when many requests are held at once', async () => {
    const { approvals, store } = await service(3);
    await Promise.all(Array.from({ length: 12 }, (_, i) => approvals.hold(pending(i))));
    expect(await store.countPending()).toBe(3);
    // the flooder's newest stay, its oldest were displaced
    const ids = (await store.listPending(['pending'])).map((p) => p.id).sort();
    expect(ids).toEqual(['req-cap-10', 'req-cap-11', 'req-cap-9']);
  });
});
