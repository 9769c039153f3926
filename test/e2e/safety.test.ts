import { describe, expect, it } from 'vitest';
import {
  approveCli,
  auditRecords,
  freshNamespace,
  kubectl,
  pending,
  requestIdIn,
  rollbackOnceRecorded,
  rolledOut,
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
    await rolledOut(ns, 'web');
    const { id } = await approvedRun(
      ['scale', 'deployment', 'web', '--replicas=3', '-n', ns],
      `${ns}/deployments/web`,
    );
    expect(
      (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout,
    ).toBe('3');
    await rolledOut(ns, 'web');

    const rb = await rollbackOnceRecorded(id);
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
    const rb = await rollbackOnceRecorded(id);
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

  it('(bypass round 11) a batch approval (--plan) is bound to each object as shown: a changed one is held again', async () => {
    const ns = await freshNamespace('drift-batch');
    expect((await admin(['create', 'configmap', 'c', '--from-literal=a=scratch', '-n', ns])).code).toBe(0);
    const del = ['delete', 'configmap', 'c', '-n', ns, '--wait=false'];
    const create = ['create', 'configmap', 'other', '-n', ns];
    const ids = [requestIdIn((await kubectl(del)).stderr), requestIdIn((await kubectl(create)).stderr)];
    const ok = await approveCli(['approve', ...ids, '--plan']);
    expect(ok.code, ok.stderr).toBe(0);
    // someone else puts data worth keeping into the object after the approver looked
    expect(
      (await admin(['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"a":"important"}}'])).code,
    ).toBe(0);
    const retry = await kubectl(del);
    expect(retry.code, retry.stdout).not.toBe(0);
    expect(retry.stderr).toMatch(/object changed since it was approved/);
    expect((await admin(['get', 'configmap', 'c', '-n', ns, '-o', 'jsonpath={.data.a}'])).stdout).toBe(
      'important',
    );
    // the other request of the batch, whose object did not change, runs on the same approval
    expect((await kubectl(create)).code).toBe(0);
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

describe('post-execution check', () => {
  it('records validated when a Deployment rollout settles on the simulated node, validation_failed with the rollback command when its pods never get ready', async () => {
    const { readFileSync } = await import('node:fs');
    const { startExtraKubegate } = await import('./helpers.js');
    const ns = await freshNamespace('validate');
    expect(
      (await admin(['create', 'deployment', 'web', '--image=nginx', '--replicas=1', '-n', ns])).code,
    ).toBe(0);
    expect((await admin(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s'])).code).toBe(0);
    const kg = await startExtraKubegate('validate', {
      execution: { validate_rollout_seconds: 6, hold_seconds: 15 },
    });
    try {
      const approveWhileHeld = async (args: string[]) => {
        const run = kubectl(['--kubeconfig', kg.kubeconfig, ...args]);
        let id = '';
        for (let i = 0; i < 100 && !id; i++) {
          const r = await approveCli(['list', '-o', 'json'], 'alice', kg.url);
          type Item = { id: string; target: string; status: string };
          const parsed = JSON.parse(r.stdout || '[]') as Item[] | { items: Item[] };
          id =
            (Array.isArray(parsed) ? parsed : parsed.items).find(
              (p) => p.target === `${ns}/deployments/web` && p.status === 'pending',
            )?.id ?? '';
          if (!id) await new Promise((r2) => setTimeout(r2, 200));
        }
        expect((await approveCli(['approve', id], 'alice', kg.url)).code).toBe(0);
        expect((await run).code).toBe(0);
        return id;
      };
      const records = () =>
        readFileSync(kg.auditFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const waitFor = async (id: string) => {
        for (let i = 0; i < 100; i++) {
          const r = records().find((x) => x.request_id === id && String(x.event).startsWith('valid'));
          if (r) return r;
          await new Promise((r2) => setTimeout(r2, 200));
        }
        throw new Error(`no rollout check recorded for ${id}`);
      };
      // the simulated node runs both replicas: the rollout settles for real
      const up = await approveWhileHeld(['scale', 'deployment', 'web', '--replicas=2', '-n', ns]);
      const ok = await waitFor(up);
      expect(ok.event).toBe('validated');
      expect(ok.observed).toMatchObject({ readyReplicas: 2, updatedReplicas: 2 });
      // pods labelled kubegate.dev/never-ready never become ready (a KWOK stage): the rollout stalls
      const stall = JSON.stringify({
        spec: { template: { metadata: { labels: { 'kubegate.dev/never-ready': 'true' } } } },
      });
      const bad = await approveWhileHeld(['patch', 'deployment', 'web', '-n', ns, '-p', stall]);
      const failed = await waitFor(bad);
      expect(failed.event).toBe('validation_failed');
      expect(failed.message).toContain(`approve-cli rollback ${bad}`);
      expect(failed.expected).toMatchObject({ replicas: 2 });
      expect((failed.observed as { updatedReplicas?: number }).updatedReplicas ?? 0).toBeLessThan(2);
    } finally {
      await kg.stop();
    }
  });
});

describe('show previews a held change with a server-side dry run', () => {
  it('runs the held request with dryRun=All as the requester and diffs the result against the live object', async () => {
    const ns = await freshNamespace('preview');
    expect(
      (await admin(['create', 'deployment', 'web', '--image=nginx', '--replicas=1', '-n', ns])).code,
    ).toBe(0);
    await rolledOut(ns, 'web');
    const held = kubectl(['scale', 'deployment', 'web', '--replicas=3', '-n', ns]);
    const p = await waitForPending(`${ns}/deployments/web`);
    const show = await approveCli(['show', p.id]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/server-side dry run \(as the requester\): HTTP 200/);
    const preview = show.stdout.slice(show.stdout.indexOf('server-side dry run'));
    expect(preview).toMatch(/spec\.replicas/);
    expect(preview).toMatch(/\b1\b[^\n]*\b3\b/);
    // the preview changed nothing
    expect(
      (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout,
    ).toBe('1');
    expect((await approveCli(['reject', p.id, '--reason', 'preview only'])).code).toBe(0);
    expect((await held).code).not.toBe(0);
  });

  // Found by an independent bypass run: kubectl delete sends DeleteOptions in the body, and with
  // a body the apiserver ignores ?dryRun=All, so the preview used to really delete.
  it('previewing a held kubectl delete deletes nothing', async () => {
    const ns = await freshNamespace('preview-del');
    expect((await admin(['create', 'deployment', 'web', '--image=nginx', '-n', ns])).code).toBe(0);
    await rolledOut(ns, 'web');
    const held = kubectl(['delete', 'deployment', 'web', '-n', ns]);
    const p = await waitForPending(`${ns}/deployments/web`);
    const show = await approveCli(['show', p.id]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/server-side dry run \(as the requester\): HTTP 200/);
    expect((await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'name'])).stdout.trim()).toBe(
      'deployment.apps/web',
    );
    expect((await approveCli(['reject', p.id, '--reason', 'preview only'])).code).toBe(0);
    expect((await held).code).not.toBe(0);
    expect((await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'name'])).code).toBe(0);
  });
});
