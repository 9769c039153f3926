// Real clients other than plain kubectl through kubegate: Helm, server-side apply, kubectl diff,
// Kustomize, and a client-go informer that lists once and watches.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tool } from '../../src/dev/binaries.js';
import { approveCli, devEnv, freshNamespace, kubectl, pending, type RunResult } from './helpers.js';

const clients = path.resolve('test/clients');

/**
 * Approves, while `run` is under way, every request held in `ns` (alice first, bob as the
 * second approver where the policy asks for two), as an approver watching the queue would.
 */
async function approvingIn<T>(ns: string, run: Promise<T>): Promise<{ result: T; approved: string[] }> {
  let done = false;
  void run.finally(() => {
    done = true;
  });
  const by = new Map<string, string[]>();
  while (!done) {
    for (const p of await pending()) {
      if (!p.target.startsWith(`${ns}/`) || p.status !== 'pending') continue;
      const used = by.get(p.id) ?? [];
      const who = used.includes('alice') ? 'bob' : 'alice';
      if (used.includes(who)) continue;
      const a = await approveCli(['approve', p.id], who);
      if (a.code === 0) by.set(p.id, [...used, who]);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { result: await run, approved: [...by.keys()] };
}

function helm(args: string[]): Promise<RunResult> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'kg-helm-'));
  return new Promise((resolve) => {
    execFile(
      tool('helm'),
      args,
      {
        timeout: 110_000,
        env: {
          PATH: process.env.PATH ?? '',
          KUBECONFIG: devEnv().KUBECONFIG!,
          HELM_CACHE_HOME: path.join(home, 'cache'),
          HELM_CONFIG_HOME: path.join(home, 'config'),
          HELM_DATA_HOME: path.join(home, 'data'),
          // Helm's default release store is a Secret, which the policy calls CRITICAL (credentials):
          // a two-person, override-only change on every release. Releases in ConfigMaps are MEDIUM.
          HELM_DRIVER: 'configmap',
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const admin = (args: string[]) => kubectl(args, { as: 'admin' });

describe('Helm through kubegate', () => {
  it('install (held, approved, deployed and Available), upgrade, rollback, uninstall (release kept in ConfigMaps)', async () => {
    const ns = await freshNamespace('helm');
    const chart = path.join(clients, 'chart');
    const install = await approvingIn(
      ns,
      helm(['install', 'rel', chart, '-n', ns, '--wait', '--timeout', '90s']),
    );
    expect(install.result.code, install.result.stderr).toBe(0);
    expect(install.result.stdout).toContain('STATUS: deployed');
    expect(install.approved.length).toBeGreaterThan(0); // the gate held what Helm sent
    const cm = await admin(['get', 'configmap', 'rel-config', '-n', ns, '-o', 'jsonpath={.data.greeting}']);
    expect(cm.stdout).toBe('hello');
    expect(
      (await admin(['get', 'deploy', 'rel-web', '-n', ns, '-o', 'jsonpath={.status.availableReplicas}']))
        .stdout,
    ).toBe('1');

    const upgrade = await approvingIn(
      ns,
      helm(['upgrade', 'rel', chart, '-n', ns, '--set', 'greeting=bonjour']),
    );
    expect(upgrade.result.code, upgrade.result.stderr).toBe(0);
    expect(
      (await admin(['get', 'configmap', 'rel-config', '-n', ns, '-o', 'jsonpath={.data.greeting}'])).stdout,
    ).toBe('bonjour');
    const rollback = await approvingIn(ns, helm(['rollback', 'rel', '1', '-n', ns]));
    expect(rollback.result.code, rollback.result.stderr).toBe(0);
    expect(
      (await admin(['get', 'configmap', 'rel-config', '-n', ns, '-o', 'jsonpath={.data.greeting}'])).stdout,
    ).toBe('hello');
    const history = await helm(['history', 'rel', '-n', ns, '-o', 'json']);
    expect((JSON.parse(history.stdout) as { revision: number }[]).map((r) => r.revision)).toEqual([1, 2, 3]);

    // --keep-history: purging the history deletes with a protobuf DeleteOptions body, which
    // kubegate cannot inspect and refuses (see README, what a client cannot do)
    const uninstall = await approvingIn(ns, helm(['uninstall', 'rel', '-n', ns, '--keep-history']));
    expect(uninstall.result.code, uninstall.result.stderr).toBe(0);
    expect((await admin(['get', 'configmap', 'rel-config', '-n', ns])).code).not.toBe(0);
    expect((await admin(['get', 'deployment', 'rel-web', '-n', ns])).code).not.toBe(0);
    const status = await helm(['status', 'rel', '-n', ns, '-o', 'json']);
    expect((JSON.parse(status.stdout) as { info: { status: string } }).info.status).toBe('uninstalled');
  });
});

describe('kubectl apply --server-side, diff, apply -k through kubegate', () => {
  it('a server-side apply is held and applied once approved; diff shows the next change and changes nothing', async () => {
    const ns = await freshNamespace('ssa');
    const cm = (v: string) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'cfg', namespace: ns },
        data: { v },
      });
    const apply = await approvingIn(ns, kubectl(['apply', '--server-side', '-f', '-'], { input: cm('one') }));
    expect(apply.result.code, apply.result.stderr).toBe(0);
    expect(apply.result.stdout).toContain('serverside-applied');
    const managed = await admin([
      'get',
      'cm',
      'cfg',
      '-n',
      ns,
      '-o',
      'jsonpath={.metadata.managedFields[*].manager}',
    ]);
    expect(managed.stdout).toContain('kubectl');

    const diff = await approvingIn(ns, kubectl(['diff', '-f', '-'], { input: cm('two') }));
    expect(diff.result.code, diff.result.stderr).toBe(1); // 1: differences found
    expect(diff.result.stdout).toMatch(/-\s+v: one/);
    expect(diff.result.stdout).toMatch(/\+\s+v: two/);
    expect((await admin(['get', 'cm', 'cfg', '-n', ns, '-o', 'jsonpath={.data.v}'])).stdout).toBe('one');
  });

  it('apply -k of a Kustomize folder creates its generated ConfigMap and prefixed Deployment', async () => {
    const ns = await freshNamespace('kustomize');
    const apply = await approvingIn(ns, kubectl(['apply', '-k', path.join(clients, 'kustomize'), '-n', ns]));
    expect(apply.result.code, apply.result.stderr).toBe(0);
    expect(apply.result.stdout).toMatch(/deployment.apps\/kz-app created/);
    const wait = await kubectl([
      'wait',
      '--for=condition=Available',
      'deployment/kz-app',
      '-n',
      ns,
      '--timeout=60s',
    ]);
    expect(wait.code, wait.stderr).toBe(0);
    const cms = await admin([
      'get',
      'cm',
      '-n',
      ns,
      '-l',
      'app.kubernetes.io/part-of=kustomize-e2e',
      '-o',
      'name',
    ]);
    expect(cms.stdout).toMatch(/configmap\/kz-settings-[a-z0-9]+/);
  });
});

describe('a client-go informer through kubegate', () => {
  it('lists once, watches, and sees every change made meanwhile', async () => {
    const ns = await freshNamespace('informer');
    expect((await admin(['create', 'cm', 'before', '-n', ns, '--from-literal=v=0'])).code).toBe(0);
    const child = spawn(tool('informer'), ['--kubeconfig', devEnv().KUBECONFIG!, '--namespace', ns], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const until = async (text: string) => {
      for (let i = 0; i < 150 && !out.includes(text); i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toContain(text);
    };
    try {
      await until('SYNCED');
      expect(out).toContain('ADDED before 0');
      for (let i = 1; i <= 5; i++) await admin(['create', 'cm', `c${i}`, '-n', ns, `--from-literal=v=${i}`]);
      await admin(['patch', 'cm', 'c1', '-n', ns, '-p', '{"data":{"v":"changed"}}']);
      await admin(['delete', 'cm', 'c2', '-n', ns]);
      for (let i = 1; i <= 5; i++) await until(`ADDED c${i} ${i}`);
      await until('MODIFIED c1 changed');
      await until('DELETED c2 2');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    const m = /REQUESTS lists=(\d+) watches=(\d+)/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m![1])).toBe(1); // one list, no relist storm
    expect(Number(m![2])).toBeGreaterThanOrEqual(1);
  });
});
