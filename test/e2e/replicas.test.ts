import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { writeKubeconfig } from '../../src/dev/controlplane.js';
import { freePort } from '../../src/dev/ports.js';
import {
  devEnv,
  dir,
  freshNamespace,
  kubectl,
  kubectlBin,
  type RunResult,
  readAudit,
  requestIdIn,
} from './helpers.js';

/**
 * Story: kubegate runs as two replicas behind one Service, sharing its state through the
 * Kubernetes API (state.type: kubernetes). An approval given through one replica lets the
 * request through the other, once; the freeze switch stops both.
 *
 * Uses serve()'s Kubernetes store (state.type kubernetes): the apiserver is the shared, consistent store.
 */
interface Replica {
  name: string;
  url: string;
  kubeconfig: string;
  audit: string;
  child: ChildProcess;
}

const work = mkdtempSync(path.join(dir, 'replicas-'));
const stateNs = `kg-replicas-${process.pid}`;
const replicas: Replica[] = [];

function yamlToken(file: string): string {
  const kc = YAML.parse(readFileSync(file, 'utf8')) as { users: { user: { token: string } }[] };
  return kc.users[0]!.user.token;
}

function ping(url: string, ca: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(`${url}/kubegate/healthz`, { ca, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
  });
}

async function startReplica(name: string, holdSeconds = 0): Promise<Replica> {
  const port = await freePort();
  const config = {
    listen: { address: '127.0.0.1', port },
    tls: { cert: path.join(dir, 'certs', 'serving.crt'), key: path.join(dir, 'certs', 'serving.key') },
    upstream: { kubeconfig: path.join(dir, 'upstream.kubeconfig') },
    cluster_name: 'kubegate',
    policy: { bundle: path.resolve('dist', 'policy'), watch: false },
    approvers: { jwks: path.join(dir, 'approvers.jwks.json') },
    audit: { path: path.join(work, name, 'actions-log.jsonl') },
    state: { type: 'kubernetes', namespace: stateNs },
    execution: { hold_seconds: holdSeconds },
  };
  const file = path.join(work, `${name}.yaml`);
  writeFileSync(file, YAML.stringify(config));
  const log = createWriteStream(path.join(work, `${name}.log`));
  const child = spawn(process.execPath, ['dist/cli/kubegate.js', 'serve', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBEGATE_REPLICA: name },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `https://127.0.0.1:${port}`;
  const ca = readFileSync(path.join(dir, 'certs', 'ca.crt'));
  const t0 = Date.now();
  while ((await ping(url, ca)) !== 200) {
    if (child.exitCode !== null || Date.now() - t0 > 30_000)
      throw new Error(`replica ${name} did not start; see ${path.join(work, `${name}.log`)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const kubeconfig = path.join(work, `${name}.kubeconfig`);
  writeKubeconfig(
    kubeconfig,
    url,
    path.join(dir, 'certs', 'ca.crt'),
    'agent',
    yamlToken(devEnv().KUBECONFIG!),
  );
  return { name, url, kubeconfig, audit: config.audit.path, child };
}

/** Real kubectl as the agent through one replica. */
function via(r: Replica, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      kubectlBin(),
      ['--kubeconfig', r.kubeconfig, ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Real approve-cli as alice through one replica. */
function approveVia(r: Replica, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.resolve('dist/cli/approve-cli.js'), ...args],
      {
        timeout: 30_000,
        env: {
          ...process.env,
          KUBEGATE_URL: r.url,
          KUBEGATE_CA: path.join(dir, 'certs', 'ca.crt'),
          KUBEGATE_CLUSTER: 'kubegate',
          APPROVE_KEY: path.join(dir, 'keys', 'alice.jwk'),
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

function forwarded(r: Replica, requestId: string): number {
  return readAudit(r.audit).filter((x) => x.event === 'forwarded' && x.request_id === requestId).length;
}

beforeAll(async () => {
  replicas.push(await startReplica('kg-a'), await startReplica('kg-b'));
});

afterAll(async () => {
  for (const r of replicas) {
    const exited = new Promise((resolve) => r.child.once('exit', resolve));
    r.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
  }
  await kubectl(['delete', 'namespace', stateNs, '--wait=false'], { as: 'admin' });
});

describe('two kubegate replicas sharing state through the Kubernetes API', () => {
  it('an approval given through one replica lets the change through the other, once', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const ns = await freshNamespace('replicas');
    expect((await kubectl(['create', 'configmap', 'shared', '-n', ns], { as: 'admin' })).code).toBe(0);
    // a JSON patch: the identical command has the identical fingerprint every time
    const cmd = ['patch', 'configmap', 'shared', '-n', ns, '-p', '{"data":{"k":"v"}}'];
    const held = await via(a, cmd);
    expect(held.code).not.toBe(0);
    const id = requestIdIn(held.stderr);

    const list = await approveVia(b, ['list', '-o', 'json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(id);
    const ok = await approveVia(b, ['approve', id]);
    expect(ok.code, ok.stderr).toBe(0);

    // the approval was recorded by B; A sees it and consumes it
    const run = await via(a, cmd);
    expect(run.code, run.stderr).toBe(0);
    expect(forwarded(a, id) + forwarded(b, id)).toBe(1);
    // used once across both replicas: the same change again is held anew
    const again = await via(b, cmd);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/held for approval/);
    // and the state is where it should be: ConfigMaps in the state namespace
    const stored = await kubectl(
      ['get', 'configmaps', '-n', stateNs, '-l', 'kubegate.dev/kind=pending', '-o', 'name'],
      {
        as: 'admin',
      },
    );
    expect(stored.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });

  it('one approval, the same request through both replicas at once: exactly one is forwarded', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const ns = await freshNamespace('replicas');
    expect((await kubectl(['create', 'configmap', 'race', '-n', ns], { as: 'admin' })).code).toBe(0);
    const cmd = ['patch', 'configmap', 'race', '-n', ns, '-p', '{"data":{"k":"v"}}'];
    const id = requestIdIn((await via(a, cmd)).stderr);
    expect((await approveVia(a, ['approve', id])).code).toBe(0);
    await Promise.all([via(a, cmd), via(b, cmd), via(a, cmd), via(b, cmd)]);
    expect(forwarded(a, id) + forwarded(b, id)).toBe(1);
    const got = await kubectl(['get', 'configmap', 'race', '-n', ns, '-o', 'jsonpath={.data.k}'], {
      as: 'admin',
    });
    expect(got.stdout).toBe('v');
  });

  it('a replica killed while a request is held: the other serves on and the approval is not lost', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const c = await startReplica('kg-c', 30);
    const ns = await freshNamespace('replicas');
    expect((await kubectl(['create', 'configmap', 'survivor', '-n', ns], { as: 'admin' })).code).toBe(0);
    const cmd = ['patch', 'configmap', 'survivor', '-n', ns, '-p', '{"data":{"k":"v"}}'];
    const held = via(c, cmd);
    let id = '';
    type Item = { id: string; target: string };
    for (let i = 0; i < 100 && !id; i++) {
      const l = await approveVia(b, ['list', '-o', 'json']);
      const parsed = JSON.parse(l.stdout || '[]') as Item[] | { items: Item[] };
      const items = Array.isArray(parsed) ? parsed : parsed.items;
      id = items.find((p) => p.target === `${ns}/configmaps/survivor`)?.id ?? '';
      if (!id) await new Promise((r) => setTimeout(r, 200));
    }
    expect(id).toMatch(/^req-/);
    c.child.kill('SIGKILL');
    expect((await held).code).not.toBe(0); // its client loses the connection
    expect((await approveVia(b, ['approve', id])).code).toBe(0);
    const run = await via(b, cmd);
    expect(run.code, run.stderr).toBe(0);
    expect((await via(a, cmd)).code).not.toBe(0); // used once
    const got = await kubectl(['get', 'configmap', 'survivor', '-n', ns, '-o', 'jsonpath={.data.k}'], {
      as: 'admin',
    });
    expect(got.stdout).toBe('v');
  });

  it('the freeze switch set through one replica stops changes through the other', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const ns = await freshNamespace('replicas');
    const on = await approveVia(a, ['freeze', 'on', '--reason', 'replica test']);
    expect(on.code, on.stderr).toBe(0);
    try {
      const r = await via(b, ['create', 'configmap', 'cm', '--from-literal=k=v', '-n', ns]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/kubegate is frozen/);
      expect((await via(b, ['get', 'configmaps', '-n', ns])).code).toBe(0); // reads still work
    } finally {
      expect((await approveVia(b, ['freeze', 'off'])).code).toBe(0);
    }
  });
});
