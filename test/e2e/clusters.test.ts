import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevHandle, startDev } from '../../src/dev/dev.js';
import { signApproval } from '../../src/wire/approval-token.js';
import type { ApproverKeyFile } from '../../src/wire/approver-key.js';
import { dir as e2eDir, kubectlBin, type RunResult, readAudit } from './helpers.js';

/**
 * Two real control planes (staging, prod: env=production) behind one kubegate, started here with
 * `kubegate dev --clusters staging,prod` (in process, so one control plane can be stopped).
 */
const dir = path.join(e2eDir, 'clusters');
let dev: DevHandle;
let env: Record<string, string>;

function run(bin: string, args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(bin, args, { timeout: 60_000, env: { ...process.env, ...extraEnv } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

const kubectl = (context: string, args: string[], kubeconfig = env.KUBECONFIG!) =>
  run(kubectlBin(), ['--kubeconfig', kubeconfig, '--context', context, ...args]);
const admin = (cluster: string, args: string[]) =>
  run(kubectlBin(), ['--kubeconfig', path.join(dir, `admin-${cluster}.kubeconfig`), ...args]);
const approveCli = (args: string[], who = 'alice') =>
  run(process.execPath, [path.resolve('dist/cli/approve-cli.js'), ...args], {
    KUBEGATE_URL: env.KUBEGATE_URL!,
    KUBEGATE_CA: env.KUBEGATE_CA!,
    KUBEGATE_CLUSTER: env.KUBEGATE_CLUSTER!,
    APPROVE_KEY: path.join(dir, 'keys', `${who}.jwk`),
  });
const kubegateCli = (args: string[]) =>
  run(process.execPath, [path.resolve('dist/cli/kubegate.js'), ...args], {
    KUBECONFIG: env.KUBECONFIG!,
    KUBEGATE_URL: env.KUBEGATE_URL!,
    KUBEGATE_CA: env.KUBEGATE_CA!,
  });

/** `kubegate kubeconfig`: adds USER@CLUSTER with these credential flags to `file`. */
async function addContext(file: string, cluster: string, user: string, credential: string[]): Promise<void> {
  const args = ['kubeconfig', '--cluster', cluster, '--user', user, ...credential, '--out', file];
  const r = await kubegateCli(args);
  expect(r.code, r.stderr).toBe(0);
}

const heldId = (r: RunResult) => /held for approval as (req-\d{8}-[0-9a-f]+)/.exec(r.stderr)?.[1];

function auditFor(id: string): Record<string, unknown>[] {
  return readAudit(env.KUBEGATE_AUDIT!).filter((r) => r.request_id === id);
}

/** What kubegate's own API answered: a Status (message) or readiness (clusters), and the raw text. */
interface Answer {
  status: number;
  text: string;
  body: { message?: string; clusters?: Record<string, string> };
}

/** A call to kubegate's own API (its CA), JSON in and, where it is JSON, out. */
function api(method: string, p: string, body?: unknown): Promise<Answer> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${env.KUBEGATE_URL}${p}`,
      {
        method,
        ca: readFileSync(env.KUBEGATE_CA!),
        headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          const json = res.headers['content-type']?.includes('json') ? JSON.parse(text) : {};
          resolve({ status: res.statusCode ?? 0, text, body: json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function pendingView(id: string) {
  const r = await approveCli(['show', id, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    fingerprint: string;
    risk: string;
    reasons: string[];
    detail: { cluster: string };
  };
}

beforeAll(async () => {
  dev = await startDev(
    {
      dir,
      port: 0,
      clusters: ['staging', 'prod'],
      overrides: { execution: { hold_seconds: 1 } },
    },
    pino({ level: 'silent' }),
  );
  env = Object.fromEntries(
    readFileSync(path.join(dir, 'env'), 'utf8')
      .split('\n')
      .map((l) => /^export (\w+)=(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => [m[1]!, m[2]!]),
  );
  for (const c of ['staging', 'prod']) {
    const r = await admin(c, ['-n', 'default', 'create', 'deployment', 'web', '--image=nginx']);
    expect(r.code, r.stderr).toBe(0);
  }
}, 600_000);

afterAll(async () => {
  await dev?.stop();
}, 120_000);

describe('two clusters behind one kubegate', () => {
  let staging: string;
  let prod: string;

  it('holds the same scale on staging and on prod as two requests; prod is HIGH by its label', async () => {
    const scale = ['-n', 'default', 'scale', 'deployment', 'web', '--replicas=3'];
    const s = await kubectl('agent@staging', scale);
    const p = await kubectl('agent@prod', scale);
    expect(s.code).not.toBe(0);
    expect(p.code).not.toBe(0);
    staging = heldId(s)!;
    prod = heldId(p)!;
    expect(staging).toBeTruthy();
    expect(prod).toBeTruthy();
    expect(staging).not.toBe(prod);
    const sv = await pendingView(staging);
    const pv = await pendingView(prod);
    expect(sv.detail.cluster).toBe('staging');
    expect(pv.detail.cluster).toBe('prod');
    expect(sv.fingerprint).not.toBe(pv.fingerprint);
    expect(sv.risk).toBe('MEDIUM');
    expect(pv.risk).toBe('HIGH');
    expect(pv.reasons.join(';')).toContain('production cluster prod');
    const list = await approveCli(['list']);
    expect(list.stdout).toMatch(/CLUSTER/);
    expect(list.stdout).toMatch(new RegExp(`${staging}\\s+staging`));
    expect(list.stdout).toMatch(new RegExp(`${prod}\\s+prod`));
    const onlyProd = await approveCli(['list', '--cluster', 'prod']);
    expect(onlyProd.stdout).toContain(prod);
    expect(onlyProd.stdout).not.toContain(staging);
  });

  it('an approval of staging leaves prod held, and runs on staging only', async () => {
    const a = await approveCli(['approve', staging]);
    expect(a.code, a.stderr).toBe(0);
    const prodNow = await approveCli(['show', prod, '-o', 'json']);
    expect(JSON.parse(prodNow.stdout).status).toBe('pending');
    const again = await kubectl('agent@staging', [
      '-n',
      'default',
      'scale',
      'deployment',
      'web',
      '--replicas=3',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const sr = await admin('staging', [
      '-n',
      'default',
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
    const pr = await admin('prod', [
      '-n',
      'default',
      'get',
      'deployment',
      'web',
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
    expect(sr.stdout).toBe('3');
    expect(pr.stdout).toBe('1');
    // every record names its cluster, in one chain
    expect(auditFor(staging).map((r) => r.cluster)).toEqual(expect.arrayContaining(['staging']));
    expect(new Set(auditFor(staging).map((r) => r.cluster))).toEqual(new Set(['staging']));
    expect(new Set(auditFor(prod).map((r) => r.cluster))).toEqual(new Set(['prod']));
    const verify = await kubegateCli(['audit', 'verify', env.KUBEGATE_AUDIT!]);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
  });

  it("a token signed for staging's cluster does not approve prod's request", async () => {
    const pv = await pendingView(prod);
    const key = JSON.parse(readFileSync(path.join(dir, 'keys', 'bob.jwk'), 'utf8')) as ApproverKeyFile;
    const claims = {
      action: 'approve' as const,
      fingerprints: [pv.fingerprint],
      requestIds: [prod],
      signedAt: Date.now(),
    };
    const wrong = await signApproval(key, ['kubegate', 'staging'], claims, 60);
    const r = await api('POST', '/kubegate/v1/approvals', { token: wrong });
    expect(r.status).toBe(409);
    expect(r.body.message).toContain('not for cluster "prod"');
    const still = await approveCli(['show', prod, '-o', 'json']);
    expect(JSON.parse(still.stdout).status).toBe('pending');
  });

  it('a token of one cluster is no one on another', async () => {
    // admin's token is staging's own: through /clusters/prod/ the prod apiserver reviews it
    const file = path.join(dir, 'staging-admin-on-prod.kubeconfig');
    const token =
      readFileSync(path.join(dir, 'admin-staging.kubeconfig'), 'utf8').match(/token: (\S+)/)?.[1] ?? '';
    await addContext(file, 'prod', 'admin', ['--token', token]);
    const onProd = await kubectl('admin@prod', ['get', 'namespaces'], file);
    expect(onProd.code).not.toBe(0);
    expect(onProd.stderr).toMatch(/Unauthorized|did not accept your credentials/);
    await addContext(file, 'staging', 'admin', ['--token', token]);
    const onStaging = await kubectl('admin@staging', ['get', 'namespaces'], file);
    expect(onStaging.code, onStaging.stderr).toBe(0);
  });

  it("a client certificate is a user of its own cluster only (found by a bypass round: staging's CA let carol into prod)", async () => {
    const staging = dev.clusters.find((c) => c.name === 'staging')!.controlPlane.carolCert;
    // carol's own contexts carry each cluster's certificate: each works where it was issued
    for (const c of ['staging', 'prod']) {
      const me = await kubectl(
        `carol@${c}`,
        ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
        path.join(dir, 'carol.kubeconfig'),
      );
      expect(me.code, me.stderr).toBe(0);
      expect(me.stdout).toBe('carol');
    }
    const file = path.join(dir, 'carol-staging-cert-on-prod.kubeconfig');
    await addContext(file, 'prod', 'carol', [
      '--client-certificate',
      staging.cert,
      '--client-key',
      staging.key,
    ]);
    const other = await kubectl('carol@prod', ['-n', 'default', 'get', 'configmaps'], file);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/Unauthorized|not issued by this cluster's client CA/);
  });

  it('a request that names no cluster is refused with the names to use', async () => {
    const file = path.join(dir, 'unprefixed.kubeconfig');
    const kc = readFileSync(env.KUBECONFIG!, 'utf8').replace(/\/clusters\/staging/g, '');
    writeFileSync(file, kc);
    const r = await kubectl('agent@staging', ['get', 'namespaces'], file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('NotFound');
    const raw = await api('GET', '/api/v1/namespaces');
    expect(raw.status).toBe(404);
    expect(raw.body.message).toContain('several clusters');
    expect(raw.body.message).toContain('staging, prod');
    const bad = await api('GET', '/clusters/nope/api/v1/namespaces');
    expect(bad.status).toBe(404);
    expect(bad.body.message).toContain('staging, prod');
  });

  it('metrics carry the cluster', async () => {
    const { status, text } = await api('GET', '/kubegate/metrics');
    expect(status).toBe(200);
    const held =
      /kubegate_decisions_total\{[^}]*cluster="prod"[^}]*risk="HIGH"[^}]*outcome="held"[^}]*\} [1-9]/;
    const ran =
      /kubegate_decisions_total\{[^}]*cluster="staging"[^}]*risk="MEDIUM"[^}]*outcome="forwarded"[^}]*\} [1-9]/;
    expect(text).toMatch(held);
    expect(text).toMatch(ran);
  });

  it('a plan with steps on both clusters is CRITICAL: the override and two approvers', async () => {
    const plan = path.join(dir, 'both.yaml');
    writeFileSync(
      plan,
      [
        'title: web to 2 everywhere',
        'why: one replica less on both clusters',
        'steps:',
        '  - scale: {apiVersion: apps/v1, kind: Deployment, namespace: default, name: web, replicas: 2}',
        '  - cluster: prod',
        '    scale: {apiVersion: apps/v1, kind: Deployment, namespace: default, name: web, replicas: 2}',
        '',
      ].join('\n'),
    );
    const s = await kubegateCli(['plan', 'submit', plan]);
    expect(s.code, s.stderr + s.stdout).toBe(0);
    const id = /(plan-\d{8}-\d{3,})/.exec(s.stdout + s.stderr)?.[1] ?? '';
    const show = await approveCli(['show', id, '-o', 'json']);
    const view = JSON.parse(show.stdout) as PlanJson;
    expect(view.risk).toBe('CRITICAL');
    expect(view.override_required).toBe(true);
    expect(view.approvals_required).toBe(2);
    expect(view.reasons[0]).toContain('2 clusters (staging, prod)');
    expect(view.steps.map((st) => st.detail.cluster)).toEqual(['staging', 'prod']);
    const one = await approveCli(['approve', id, '--override', '--reason', 'both at once']);
    expect(one.code, one.stderr).toBe(0);
    const early = await kubegateCli(['plan', 'run', id]);
    expect(early.code).not.toBe(0);
    const two = await approveCli(['approve', id, '--override', '--reason', 'both at once'], 'bob');
    expect(two.code, two.stderr).toBe(0);
    const done = await kubegateCli(['plan', 'run', id]);
    expect(done.code, done.stderr + done.stdout).toBe(0);
    for (const c of ['staging', 'prod']) {
      const r = await admin(c, [
        '-n',
        'default',
        'get',
        'deployment',
        'web',
        '-o',
        'jsonpath={.spec.replicas}',
      ]);
      expect(r.stdout).toBe('2');
    }
  });

  it("stopping prod's control plane leaves staging fully usable, and readiness is per cluster", async () => {
    const prodCp = dev.clusters.find((c) => c.name === 'prod')!.controlPlane;
    await prodCp.stop();
    const ready = await api('GET', '/kubegate/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.clusters).toEqual({ staging: 'ready', prod: 'not answering' });
    expect((await api('GET', '/clusters/staging/kubegate/readyz')).status).toBe(200);
    expect((await api('GET', '/clusters/prod/kubegate/readyz')).status).toBe(503);
    const read = await kubectl('agent@staging', ['-n', 'default', 'get', 'deployment', 'web']);
    expect(read.code, read.stderr).toBe(0);
    // a change on staging is decided and held as ever (MEDIUM), not failed
    const write = await kubectl('agent@staging', [
      '-n',
      'default',
      'scale',
      'deployment',
      'web',
      '--replicas=5',
    ]);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toContain('held for approval');
    const down = await kubectl('agent@prod', ['get', 'namespaces']);
    expect(down.code).not.toBe(0);
  });
});

interface PlanJson {
  risk: string;
  override_required: boolean;
  approvals_required: number;
  reasons: string[];
  steps: { detail: { cluster: string } }[];
}
