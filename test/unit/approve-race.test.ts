import { describe, expect, it } from 'vitest';
import type { ApprovalService } from '../../src/approval/service.js';
import { type ApproveDeps, approve } from '../../src/chain/approve.js';
import type { RequestAudit } from '../../src/chain/audit.js';
import { newContext, type With } from '../../src/chain/context.js';
import { StatusError } from '../../src/kube/status.js';
import { createMetrics } from '../../src/metrics.js';
import type { StateStore } from '../../src/state/store.js';
import { testCluster } from './fake-cluster.js';
import { approvalConfig, configMapCreate, decidedMedium } from './fake-decided.js';

const FP = 'sha256:same-request';
const lost = () =>
  new StatusError(409, 'Conflict', 'the approval was used by another request at the same moment');

/** A held request whose approval an identical request won first; the store says what became of it. */
function race(statuses: string[]) {
  const spends: string[] = [];
  let spendCalls = 0;
  const approvals = {
    acceptWithRequest: async () => {},
    newsMark: () => 0,
    count: async () => ({ verdict: { ok: true, use: [{ approver: 'alice' }] }, live: [{ jti: 'j1' }] }),
    spend: async () => {
      spendCalls++;
      if (spendCalls === 1) throw lost();
      spends.push('spent');
    },
    // news of the fingerprint: the winner gave its approval back, or ran
    wait: async () => ({ kind: 'approved' }),
  } as unknown as ApprovalService;
  const store = {
    findPendingByFingerprint: async () => ({ id: 'req-1', fingerprint: FP, createdAt: Date.now() }),
    getPending: async () => ({ id: 'req-1', status: statuses.shift() ?? 'pending' }),
  } as unknown as StateStore;
  const deps: ApproveDeps = {
    config: approvalConfig(),
    approvals,
    store,
    audit: {} as RequestAudit,
    metrics: createMetrics({ defaultMetrics: false }),
  };
  const ctx = Object.assign(
    newContext({
      origin: 'client',
      cluster: testCluster(),
      kr: configMapCreate(),
      headers: {},
      signal: new AbortController().signal,
      holdMs: 5000,
    }),
    decidedMedium(FP),
  ) as unknown as With<'caller' | 'body' | 'decided'>;
  return { run: () => approve(ctx, deps), spends };
}

describe('identical held requests racing for one approval (bypass round 11)', () => {
  it('the loser waits, and takes the approval the winner gave back when its client left', async () => {
    const r = race(['approved', 'pending']);
    const approved = await r.run();
    expect(approved.approved.approvers).toEqual(['alice']);
    expect(r.spends).toEqual(['spent']);
  });

  it('the loser gets the 409 it lost with once the winner ran', async () => {
    const r = race(['approved', 'executed']);
    await expect(r.run()).rejects.toMatchObject({ code: 409 });
    expect(r.spends).toEqual([]);
  });
});
