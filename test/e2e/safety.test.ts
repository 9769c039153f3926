import { describe, expect, it } from 'vitest';
import {
  approveCli,
  auditRecords,
  freshNamespace,
  kubectl,
  pending,
  requestIdIn,
  waitForPending,
} from './helpers.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });

/** Runs an agent command and approves it (as alice) while it is held. */
async function approvedRun(args: string[], target: string): Promise<{ id: string; stderr: string }> {
  const run = kubectl(args);
  const p = await waitForPending(target);
  const a = await approveCli(['approve', p.id]);
  expect(a.code, a.stderr).toBe(0);
  const r = await run;
  expect(r.code, r.stderr).toBe(0);
  return { id: p.id, stderr: r.stderr };
}

describe('rollback snapshots, pre-flight drift checks, conflicts and the emergency stop', () => {
  it('rolls back an approved scale through the gate: alice proposes, bob approves, the old replica count is back', async () => {
    const ns = await freshNamespace('rollback-scale');
    expect(
      (await admin(['create', 'deployment', 'web', '--image=nginx', '--replicas=1', '-n', ns])).code,
    ).toBe(0);
    const { id } = await approvedRun(
      ['scale', 'deployment', 'web', '--replicas=3', '-n', ns],
      `${ns}/deployments/web`,
    );
    expect(
      (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout,
    ).toBe('3');

    const rb = await approveCli(['rollback', id]);
    expect(rb.code, rb.stderr).toBe(0);
    const rollbackId = rb.stdout.trim();
    expect(rollbackId).toMatch(/^req-/);
    expect(rb.stderr).toMatch(/spec.replicas 3 -> 1/);
    // alice asked for it, so alice cannot approve it
    expect((await approveCli(['approve', rollbackId])).code).not.toBe(0);
    const ok = await approveCli(['approve', rollbackId], 'bob');
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout,
    ).toBe('1');
    const rolled = auditRecords().find((r) => r.event === 'rolled_back' && r.request_id === id);
    expect(rolled?.rollback_request_id).toBe(rollbackId);
  });

  it('re-creates a deleted ConfigMap with its data', async () => {
    const ns = await freshNamespace('rollback-delete');
    expect(
      (await admin(['create', 'configmap', 'settings', '--from-literal=mode=blue', '-n', ns])).code,
    ).toBe(0);
    const { id } = await approvedRun(
      ['delete', 'configmap', 'settings', '-n', ns],
      `${ns}/configmaps/settings`,
    );
    expect((await admin(['get', 'configmap', 'settings', '-n', ns])).code).not.toBe(0);
    const rb = await approveCli(['rollback', id]);
    expect(rb.code, rb.stderr).toBe(0);
    expect((await approveCli(['approve', rb.stdout.trim()], 'bob')).code).toBe(0);
    expect(
      (await admin(['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.mode}'])).stdout,
    ).toBe('blue');
  });

  it('refuses a retry when the object changed after it was approved', async () => {
    const ns = await freshNamespace('drift');
    expect((await admin(['create', 'configmap', 'c', '--from-literal=a=1', '-n', ns])).code).toBe(0);
    const args = ['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"a":"2"}}'];
    const first = await kubectl(args);
    expect(first.code).not.toBe(0);
    const id = requestIdIn(first.stderr);
    expect((await approveCli(['approve', id])).code).toBe(0);
    // someone else changes the object between the approval and the retry
    expect((await admin(['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"b":"x"}}'])).code).toBe(0);
    const retry = await kubectl(args);
    expect(retry.code).not.toBe(0);
    expect(retry.stderr).toMatch(/object changed since it was approved/);
    expect((await admin(['get', 'configmap', 'c', '-n', ns, '-o', 'jsonpath={.data.a}'])).stdout).toBe('1');
  });

  it('shows two pending changes to the same object as conflicting', async () => {
    const ns = await freshNamespace('conflict');
    expect((await admin(['create', 'configmap', 'c', '-n', ns])).code).toBe(0);
    const a = kubectl(['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"x":"1"}}']);
    const b = kubectl(['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"x":"2"}}']);
    await waitForPending(`${ns}/configmaps/c`);
    let mine: Awaited<ReturnType<typeof pending>> = [];
    for (let i = 0; i < 50 && mine.length < 2; i++) {
      mine = (await pending()).filter((p) => p.target === `${ns}/configmaps/c`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(mine).toHaveLength(2);
    expect(mine[0]!.conflicts).toContain(mine[1]!.id);
    await Promise.all([a, b]);
  });

  it('freeze refuses every change and cancels held ones, reads keep working; both are audited with who', async () => {
    const ns = await freshNamespace('freeze');
    expect((await admin(['create', 'configmap', 'c', '-n', ns])).code).toBe(0);
    const held = kubectl(['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"x":"1"}}']);
    await waitForPending(`${ns}/configmaps/c`);
    const on = await approveCli(['freeze', 'on', '--reason', 'incident 42'], 'bob');
    expect(on.code, on.stderr).toBe(0);
    try {
      const h = await held;
      expect(h.code).not.toBe(0);
      expect(h.stderr).toMatch(/cancelled.*freeze/i);
      const refused = await kubectl(['create', 'configmap', 'new', '-n', ns]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/frozen/);
      expect((await kubectl(['get', 'configmap', 'c', '-n', ns, '-o', 'name'])).stdout.trim()).toBe(
        'configmap/c',
      );
    } finally {
      expect((await approveCli(['freeze', 'off'], 'bob')).code).toBe(0);
    }
    const events = auditRecords().filter((r) => r.event === 'freeze' || r.event === 'unfreeze');
    expect(events.slice(-2).map((r) => [r.event, r.approver])).toEqual([
      ['freeze', 'bob'],
      ['unfreeze', 'bob'],
    ]);
  });
});
