import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const dir = process.env.KG_E2E_DIR ?? path.resolve('.work/e2e');

/** The `export K=V` lines `kubegate dev` wrote. */
export function devEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path.join(dir, 'env'), 'utf8').split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

export function kubectlBin(): string {
  const cache = process.env.KUBEGATE_CACHE ?? path.join(os.homedir(), '.cache', 'kubegate');
  return path.join(process.env.KUBEGATE_BIN ?? path.join(cache, 'bin'), 'kubectl');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Real kubectl, as the agent through kubegate (default) or as admin straight to the apiserver. */
export function kubectl(
  args: string[],
  opts: {
    as?: 'agent' | 'admin';
    kubeconfig?: string;
    input?: string;
    timeoutMs?: number;
    env?: Record<string, string>;
  } = {},
): Promise<RunResult> {
  const env = devEnv();
  const kubeconfig =
    opts.kubeconfig ?? (opts.as === 'admin' ? env.KUBEGATE_ADMIN_KUBECONFIG! : env.KUBECONFIG!);
  return new Promise((resolve) => {
    const child = execFile(
      kubectlBin(),
      ['--kubeconfig', kubeconfig, ...args],
      {
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: 256 * 1024 * 1024,
        ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Starts a long-running kubectl (e.g. `get -w`) and collects its output. */
export function kubectlStream(args: string[]) {
  const env = devEnv();
  const child = spawn(kubectlBin(), ['--kubeconfig', env.KUBECONFIG!, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return {
    output: () => out,
    async waitFor(text: string | RegExp, timeoutMs = 20_000): Promise<void> {
      const t0 = Date.now();
      while (Date.now() - t0 < timeoutMs) {
        if (typeof text === 'string' ? out.includes(text) : text.test(out)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${text}; output so far:\n${out}`);
    },
    stop: () => child.kill('SIGTERM'),
  };
}

let nsCounter = 0;
/** A fresh namespace made by the admin (straight to the apiserver), so tests do not interfere. */
export async function freshNamespace(prefix: string): Promise<string> {
  const ns = `${prefix}-${process.pid}-${++nsCounter}`;
  const r = await kubectl(['create', 'namespace', ns], { as: 'admin' });
  if (r.code !== 0) throw new Error(`create namespace ${ns}: ${r.stderr}`);
  return ns;
}

/** A fresh namespace with a one-replica Deployment `web` in it, made by the admin. */
export async function namespaceWithDeployment(prefix: string): Promise<string> {
  const ns = await freshNamespace(prefix);
  const r = await kubectl(['create', 'deployment', 'web', '--image=nginx', '-n', ns], { as: 'admin' });
  if (r.code !== 0) throw new Error(`create deployment web in ${ns}: ${r.stderr}`);
  return ns;
}

/** Real approve-cli as one of the dev approvers, or with any approver key file (`{ key }`). */
export function approveCli(
  args: string[],
  as: 'alice' | 'bob' | { key: string } = 'alice',
  url?: string,
): Promise<RunResult> {
  const env = devEnv();
  if (url) env.KUBEGATE_URL = url;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.resolve('dist/cli/approve-cli.js'), ...args],
      {
        timeout: 30_000,
        env: {
          ...process.env,
          KUBEGATE_URL: env.KUBEGATE_URL,
          KUBEGATE_CA: env.KUBEGATE_CA,
          KUBEGATE_CLUSTER: env.KUBEGATE_CLUSTER,
          APPROVE_KEY: typeof as === 'string' ? path.join(dir, 'keys', `${as}.jwk`) : as.key,
        },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

export interface PendingItem {
  id: string;
  fingerprint: string;
  status: string;
  requester: string;
  risk: string;
  reasons: string[];
  target: string;
  conflicts: string[];
}

/** Pending requests as approve-cli lists them. */
export async function pending(): Promise<PendingItem[]> {
  const r = await approveCli(['list', '-o', 'json']);
  if (r.code !== 0) throw new Error(`approve-cli list: ${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as PendingItem[] | { items: PendingItem[] };
  return Array.isArray(parsed) ? parsed : parsed.items;
}

/** Waits until a pending request for `target` (e.g. "ns/deployments/web") shows up. */
export async function waitForPending(target: string, timeoutMs = 20_000): Promise<PendingItem> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const hit = (await pending()).find((p) => p.target === target && p.status === 'pending');
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no pending request for ${target} after ${timeoutMs}ms`);
}

/** The held request's id from a refusal message ("... held for approval as req-… ..."). */
export function requestIdIn(text: string): string {
  const m = /(req-[A-Za-z0-9-]+)/.exec(text);
  if (!m) throw new Error(`no request id in: ${text}`);
  return m[1]!;
}

/**
 * The complete records of an audit log. A record is complete with its newline: a read while
 * kubegate writes may see the start of a line whose end is not there yet, which is left out.
 */
export function readAudit(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Audit records written so far by the dev kubegate. */
export function auditRecords(): Record<string, unknown>[] {
  return readAudit(devEnv().KUBEGATE_AUDIT!);
}

/**
 * Audit records of `file` once `ready` holds for them (up to `timeoutMs`): an outcome record rides
 * kubegate's next group commit, so it may land a few milliseconds after the client has its answer.
 */
export async function recordsWhen(
  ready: (records: Record<string, unknown>[]) => boolean,
  file = devEnv().KUBEGATE_AUDIT!,
  timeoutMs = 5000,
): Promise<Record<string, unknown>[]> {
  for (const t0 = Date.now(); ; ) {
    const records = readAudit(file);
    if (ready(records) || Date.now() - t0 > timeoutMs) return records;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ExtraKubegate {
  url: string;
  /** The agent's kubeconfig through this instance. */
  kubeconfig: string;
  auditFile: string;
  stop(): Promise<void>;
}

/**
 * A second `kubegate serve` on the dev cluster with config overrides (own port,
 * audit log and state), for switches the shared instance does not have.
 */
export async function startExtraKubegate(
  name: string,
  overrides: Record<string, unknown>,
): Promise<ExtraKubegate> {
  const YAML = (await import('yaml')).default;
  const { writeKubeconfig } = await import('../../src/dev/controlplane.js');
  const { freePort } = await import('../../src/dev/ports.js');
  const base = YAML.parse(readFileSync(path.join(dir, 'kubegate.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const port = await freePort();
  const config: Record<string, unknown> = {
    ...base,
    listen: { address: '127.0.0.1', port },
    audit: { ...base.audit, path: `${name}/actions-log.jsonl` },
    state: { type: 'file', path: `${name}/state.db` },
  };
  for (const [k, v] of Object.entries(overrides)) {
    // upstream is replaced whole (url+ca and kubeconfig exclude each other); other sections merge
    config[k] =
      k !== 'upstream' && typeof v === 'object' && v && !Array.isArray(v)
        ? { ...(config[k] as object), ...v }
        : v;
  }
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(path.join(dir, name), { recursive: true });
  const file = path.join(dir, `${name}-kubegate.yaml`);
  writeFileSync(file, YAML.stringify(config));
  const child = spawn(process.execPath, ['dist/cli/kubegate.js', 'serve', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('kubegate listening')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`kubegate serve exited ${code}: ${out}`)));
  });
  const url = `https://127.0.0.1:${port}`;
  const token = /token: (\S+)/.exec(readFileSync(devEnv().KUBECONFIG!, 'utf8'))?.[1] ?? '';
  const kubeconfig = path.join(dir, `${name}.kubeconfig`);
  writeKubeconfig(kubeconfig, url, devEnv().KUBEGATE_CA!, 'agent', token);
  return {
    url,
    kubeconfig,
    auditFile: path.join(dir, name, 'actions-log.jsonl'),
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Waits (as admin) until a Deployment's rollout settled. Pods run on the simulated node, so a
 * Deployment's status (and resourceVersion) moves for a moment after each change; tests that bind
 * an approval to the version the approver saw wait for it to stop moving first.
 */
export async function rolledOut(ns: string, name: string): Promise<void> {
  const r = await kubectl(['rollout', 'status', `deployment/${name}`, '-n', ns, '--timeout=60s'], {
    as: 'admin',
  });
  if (r.code !== 0) throw new Error(`rollout of ${ns}/${name} did not settle: ${r.stderr}`);
}

/**
 * `approve-cli rollback ID` once kubegate has recorded the change's outcome: kubectl has its answer
 * before kubegate writes the outcome, and a rollback of a change whose outcome is not yet on record
 * is refused (rightly) — on a busy machine the test can ask in between.
 */
export async function rollbackOnceRecorded(id: string): Promise<RunResult> {
  for (let i = 0; ; i++) {
    const r = await approveCli(['rollback', id]);
    if (r.code === 0 || !r.stderr.includes('outcome is unknown') || i >= 20) return r;
    await new Promise((res) => setTimeout(res, 500));
  }
}
