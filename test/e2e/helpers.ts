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
  opts: { as?: 'agent' | 'admin'; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const env = devEnv();
  const kubeconfig = opts.as === 'admin' ? env.KUBEGATE_ADMIN_KUBECONFIG! : env.KUBECONFIG!;
  return new Promise((resolve) => {
    const child = execFile(
      kubectlBin(),
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024 },
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
  const child = spawn(kubectlBin(), ['--kubeconfig', env.KUBECONFIG!, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
