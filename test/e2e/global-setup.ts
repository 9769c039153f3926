import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * Starts `kubegate dev` once for all end-to-end tests: a real etcd +
 * kube-apiserver + kube-controller-manager with kubegate in front. Tests read
 * `$KG_E2E_DIR/env` for the kubeconfigs, URL and audit path.
 */
let child: ChildProcess | undefined;
let logStream: ReturnType<typeof createWriteStream> | undefined;

export async function setup(): Promise<void> {
  const dir = path.resolve(process.env.KG_E2E_DIR ?? '.work/e2e');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  process.env.KG_E2E_DIR = dir;
  const log = createWriteStream(path.join(dir, 'kubegate.log'));
  logStream = log;
  child = spawn(
    process.execPath,
    ['dist/cli/kubegate.js', 'dev', '--dir', dir, '--port', '0', '--set', 'execution.hold_seconds=10'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBEGATE_LOG_LEVEL: 'debug' },
    },
  );
  child.stderr?.pipe(log);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`kubegate dev not ready after 240s: ${out}`)), 240_000);
    child!.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      log.write(c);
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child!.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubegate dev exited with ${code}; see ${dir}/kubegate.log\n${out}`));
    });
  });
}

export async function teardown(): Promise<void> {
  if (!child || child.exitCode !== null) return void logStream?.end();
  const exited = new Promise((r) => child!.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000).unref())]);
  if (child.exitCode === null) child.kill('SIGKILL');
  child.stdout?.destroy();
  child.stderr?.destroy();
  logStream?.end();
}
