// `approve-cli list` and `show` as the approver reads them.
import { describe, expect, it } from 'vitest';
import { approvalClaims, highestRisk, newBatchId, progressLine } from '../../../src/approvecli/approve.js';
import { age, renderList, renderShow } from '../../../src/approvecli/render.js';
import { NOW, view } from './helpers.js';

describe('renderList', () => {
  it('says when a pending request is no longer held open: its requester re-runs it after approval', () => {
    const fresh = { ...view({ id: 'req-new', createdAt: NOW - 5_000 }), conflicts: [] };
    const old = { ...view({ id: 'req-old', createdAt: NOW - 120_000 }), conflicts: [] };
    const text = renderList({ items: [fresh, old], freeze: { on: false }, holdSeconds: 30 }, NOW);
    expect(text).toMatch(/req-new .*\bpending\s*-?\s*$/m);
    expect(text).toMatch(/req-old .*pending \(re-run after approval\)/);
  });

  it('is a table with conflicts, and a banner when frozen', () => {
    const a = { ...view(), conflicts: ['req-2'] };
    const b = {
      ...view({ id: 'req-2', risk: 'CRITICAL', createdAt: NOW - 3 * 3600_000 }),
      conflicts: ['req-20261125-0007'],
    };
    const text = renderList(
      { items: [a, b], freeze: { on: true, by: 'alice', at: NOW, reason: 'incident 7' } },
      NOW,
    );
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(
      '*** FROZEN: kubegate refuses every change. freeze: ON by alice since 2026-11-25T12:00:00.000Z (incident 7) ***',
    );
    expect(lines[2]!.split(/\s{3,}/)).toEqual([
      'ID',
      'AGE',
      'REQUESTER',
      'RISK',
      'ACTION',
      'STATUS',
      'CONFLICTS',
    ]);
    expect(lines[3]!.split(/\s{3,}/)).toEqual([
      'req-20261125-0007',
      '2m',
      'system:serviceaccount:agents:clawd',
      'HIGH',
      'patch apps/v1 deployments production/api',
      'pending',
      'req-2',
    ]);
    expect(lines[4]).toMatch(/^req-2\s+3h\s+.*CRITICAL/);
  });

  it('says when nothing is pending', () => {
    expect(renderList({ items: [], freeze: { on: false } }, NOW)).toBe('no pending requests\n');
  });

  it('ages like kubectl', () => {
    expect([age(5_000), age(125_000), age(5 * 3600_000), age(3 * 86400_000)]).toEqual([
      '5s',
      '2m',
      '5h',
      '3d',
    ]);
  });
});

describe('renderShow', () => {
  it('shows who, why, the request, approvals, the diff and the rollback plan', () => {
    const v = view({
      risk: 'CRITICAL',
      conflicts: ['req-9'],
      approvals: [{ approver: 'bob', override: true, reason: 'incident 7', exp: NOW / 1000 + 300 }],
      detail: {
        override_required: true,
        approvals_required: 2,
        query: { fieldManager: ['kubectl-edit'], dryRun: ['All'] },
      },
    });
    const text = renderShow(v, NOW, v.fingerprint);
    expect(text).toContain('requester:   system:serviceaccount:agents:clawd');
    expect(text).toContain('risk:        CRITICAL\n  - change in a production namespace');
    expect(text).toContain('  PATCH (patch) /apis/apps/v1/namespaces/production/deployments/api');
    expect(text).toContain('  query:        fieldManager=kubectl-edit dryRun=All');
    expect(text).toContain('  content type: application/merge-patch+json');
    expect(text).toContain(`fingerprint: ${v.fingerprint} (recomputed here: matches)`);
    expect(text).toContain(
      'approvals:   1 of 2 present (from different approvers); override REQUIRED (present)',
    );
    expect(text).toContain('  - bob OVERRIDE: incident 7, expires in 5m');
    expect(text).toContain('conflicts:   req-9 (same object; only one of them can run)');
    expect(text).toContain('live object: resourceVersion 4242');
    expect(text).toContain('change: merge patch of deployments.apps production/api');
    expect(text).toContain('  spec.replicas: 1 -> 3');
    expect(text).toContain(
      'rollback plan:\n  restore previous values on deployments.apps production/api:\n    spec.replicas = 1',
    );
  });
});

describe('approval claims', () => {
  it('one request: its fingerprint, id, risk, the live resourceVersion and its last withdrawal', () => {
    const v = { ...view(), withdrawn_at: 1_764_000_000_123 };
    expect(approvalClaims({ requests: [{ view: v, fingerprint: v.fingerprint }], override: false })).toEqual({
      action: 'approve',
      fingerprints: [v.fingerprint],
      requestIds: [v.id],
      risk: 'HIGH',
      resourceVersion: '4242',
      withdrawals: [1_764_000_000_123],
    });
  });

  it('several requests: every fingerprint, the highest risk, the batch id, each live resourceVersion and withdrawal', () => {
    const a = { ...view(), withdrawn_at: 5 };
    const b = view({
      id: 'req-2',
      risk: 'CRITICAL',
      detail: { body: { spec: { replicas: 9 } }, resourceVersion: '77' },
    });
    const c = view({ id: 'req-3', detail: { resourceVersion: undefined } });
    const claims = approvalClaims({
      requests: [a, b, c].map((v) => ({ view: v, fingerprint: v.fingerprint })),
      override: true,
      reason: 'incident 7',
      planId: 'batch-20261125-0000002a',
    });
    expect(claims).toEqual({
      action: 'approve',
      fingerprints: [a.fingerprint, b.fingerprint, c.fingerprint],
      requestIds: [a.id, 'req-2', 'req-3'],
      resourceVersions: ['4242', '77', ''],
      withdrawals: [5, 0, 0],
      risk: 'CRITICAL',
      override: true,
      reason: 'incident 7',
      planId: 'batch-20261125-0000002a',
    });
  });

  it('ranks risks, unknown ones highest', () => {
    expect(highestRisk(['LOW', 'HIGH', 'MEDIUM'])).toBe('HIGH');
    expect(highestRisk(['CRITICAL', 'WEIRD'])).toBe('WEIRD');
  });

  it('batch ids are batch-YYYYMMDD-XXXXXXXX, never a kubegate plan id', () => {
    expect(newBatchId(new Date(NOW), () => 0)).toBe('batch-20261125-00000000');
    expect(newBatchId(new Date(NOW), () => 0.9999999999)).toBe('batch-20261125-ffffffff');
  });

  it('says how far the request is from running', () => {
    const one = view();
    expect(progressLine(one, 'alice', false)).toBe(
      'approved req-20261125-0007 (1 of 1 approvals; run the command again)',
    );
    const two = view({ detail: { approvals_required: 2, override_required: true } });
    expect(progressLine(two, 'alice', false)).toBe(
      'approved req-20261125-0007 (1 of 2 approvals; needs 1 more from another approver and an approval with --override --reason)',
    );
    const withBob = { ...two, approvals: [{ approver: 'bob', override: true, reason: 'x', exp: 0 }] };
    expect(progressLine(withBob, 'alice', false)).toBe(
      'approved req-20261125-0007 (2 of 2 approvals; run the command again)',
    );
    expect(progressLine(withBob, 'bob', false)).toMatch(/1 of 2 approvals.*bob had already approved it/);
  });
});
