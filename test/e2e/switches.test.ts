import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { approveCli, dir, freshNamespace, kubectl, requestIdIn, startExtraKubegate } from './helpers.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });

describe('config switches and plans', () => {
  it('execution.require_dry_run: a HIGH change passes only after the same request ran with --dry-run=server', async () => {
    const ns = await freshNamespace('dryrun');
    expect((await admin(['create', 'configmap', 'c', '-n', ns])).code).toBe(0);
    const kg = await startExtraKubegate('dryrun', { execution: { require_dry_run: true, hold_seconds: 3 } });
    try {
      const as = (args: string[]) => kubectl(['--kubeconfig', kg.kubeconfig, ...args]);
      const del = ['delete', 'configmap', 'c', '-n', ns, '--wait=false'];
      const first = await as(del);
      expect(first.code).not.toBe(0);
      expect(first.stderr).toMatch(/--dry-run=server first/);
      const dry = await as([...del, '--dry-run=server']);
      expect(dry.code, dry.stderr).toBe(0);
      expect((await admin(['get', 'configmap', 'c', '-n', ns])).code).toBe(0);
      const held = await as(del);
      expect(held.code).not.toBe(0);
      expect(held.stderr).toMatch(/HIGH risk/);
      expect(held.stderr).toMatch(/held for approval/);
    } finally {
      await kg.stop();
    }
  });

  it('safety.require_approval=false forwards changes but marks every record (not recommended)', async () => {
    const ns = await freshNamespace('noapproval');
    const kg = await startExtraKubegate('noapproval', { safety: { require_approval: false } });
    try {
      const r = await kubectl(['--kubeconfig', kg.kubeconfig, 'create', 'configmap', 'c', '-n', ns]);
      expect(r.code, r.stderr).toBe(0);
      const recs = readFileSync(kg.auditFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const mine = recs.filter((x) => String(x.resource).startsWith(`${ns}/`));
      expect(mine.length).toBeGreaterThan(0);
      for (const rec of mine) expect(rec.approval_disabled).toBe(true);
    } finally {
      await kg.stop();
    }
  });

  it('a plan approves several held requests with one token, each usable once', async () => {
    const ns = await freshNamespace('plan');
    const one = await kubectl(['create', 'configmap', 'one', '-n', ns]);
    const two = await kubectl(['create', 'configmap', 'two', '-n', ns]);
    const ids = [requestIdIn(one.stderr), requestIdIn(two.stderr)];
    const noPlan = await approveCli(['approve', ...ids]);
    expect(noPlan.code).toBe(2);
    const plan = await approveCli(['approve', ...ids, '--plan']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(`${plan.stdout}${plan.stderr}`).toMatch(/batch-\d{8}-[0-9a-f]{8}/);
    expect((await kubectl(['create', 'configmap', 'one', '-n', ns])).code).toBe(0);
    expect((await kubectl(['create', 'configmap', 'two', '-n', ns])).code).toBe(0);
    expect(
      (await admin(['get', 'configmap', 'one', 'two', '-n', ns, '-o', 'name'])).stdout.trim().split('\n'),
    ).toHaveLength(2);
  });

  it('an unreachable upstream gives a clear Status and kubegate keeps serving', async () => {
    const { freePort } = await import('../../src/dev/ports.js');
    const closed = await freePort();
    const { devEnv } = await import('./helpers.js');
    // kubegate's own token (it impersonates client-certificate users, so it needs one with tls.client_ca)
    const tokenFile = path.join(dir, 'unreachable-token');
    writeFileSync(tokenFile, 'unused\n');
    const kg = await startExtraKubegate('unreachable', {
      upstream: { url: `https://127.0.0.1:${closed}`, ca: devEnv().KUBEGATE_CA, token_file: tokenFile },
    });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await kubectl([
          '--kubeconfig',
          kg.kubeconfig,
          'get',
          '--raw',
          '/api/v1/namespaces',
          '--request-timeout=10s',
        ]);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(
          /cannot verify your identity with the API server|upstream API server unreachable/,
        );
      }
    } finally {
      await kg.stop();
    }
  });
});

describe('DELETE options decide the dry run, as in the apiserver', () => {
  it('refuses ?dryRun=All with a DeleteOptions body (the apiserver would ignore the query and really delete)', async () => {
    const https = await import('node:https');
    const { devEnv } = await import('./helpers.js');
    const ns = await freshNamespace('delopts');
    expect((await admin(['create', 'configmap', 'c', '-n', ns])).code).toBe(0);
    const env = devEnv();
    const token = /token: (\S+)/.exec(readFileSync(env.KUBECONFIG!, 'utf8'))?.[1] ?? '';
    const url = new URL(env.KUBEGATE_URL!);
    const body = '{"kind":"DeleteOptions","apiVersion":"v1"}';
    const status = await new Promise<number>((resolve, reject) => {
      const req = https.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'DELETE',
          path: `/api/v1/namespaces/${ns}/configmaps/c?dryRun=All`,
          ca: readFileSync(env.KUBEGATE_CA!),
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(400);
    expect((await admin(['get', 'configmap', 'c', '-n', ns, '-o', 'name'])).stdout.trim()).toBe(
      'configmap/c',
    );
  });
});
