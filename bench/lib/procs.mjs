// Child processes of one bench run: started here, stopped here (also on failure and Ctrl-C).
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** @typedef {{ name: string, child: import('node:child_process').ChildProcess, group: boolean }} Proc */

/** @type {Set<Proc>} */
const running = new Set();

/**
 * Starts a process and resolves once a line of its stdout/stderr matches `ready`.
 * `group: true` gives it its own process group, so whatever it starts itself (kubegate dev
 * starts etcd, kube-apiserver, kube-controller-manager) can be killed with it as a last resort.
 * @param {{ name: string, cmd: string, args: string[], logDir: string, ready: RegExp,
 *   timeoutMs?: number, env?: NodeJS.ProcessEnv, group?: boolean }} o
 * @returns {Promise<{ proc: Proc, match: RegExpExecArray }>}
 */
export function startProc(o) {
  const log = createWriteStream(path.join(o.logDir, `${o.name}.log`));
  const child = spawn(o.cmd, o.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: o.env ?? process.env,
    detached: !!o.group,
  });
  const proc = { name: o.name, child, group: !!o.group };
  running.add(proc);
  child.once('exit', () => running.delete(proc));
  return new Promise((resolve, reject) => {
    let out = '';
    let done = false;
    const finish = (err, match) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve({ proc, match });
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`${o.name} not ready after ${(o.timeoutMs ?? 240_000) / 1000}s; see ${log.path}`)),
      o.timeoutMs ?? 240_000,
    );
    const onData = (/** @type {Buffer} */ c) => {
      log.write(c);
      if (done) return;
      out = (out + c.toString()).slice(-64 * 1024);
      const m = o.ready.exec(out);
      if (m) finish(undefined, m);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => finish(err));
    child.once('exit', (code, sig) =>
      finish(
        new Error(
          `${o.name} exited (${code ?? sig}) before it was ready; see ${log.path}\n${out.slice(-2000)}`,
        ),
      ),
    );
  });
}

/** SIGTERM, then SIGKILL (of the whole group, for group leaders) after `graceMs`. */
export async function stopProc(/** @type {Proc} */ p, graceMs = 30_000) {
  const { child } = p;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const ok = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!ok) {
      killHard(p);
      await exited;
    }
  }
  // a group leader that exited cleanly has stopped its children; anything left is killed
  if (p.group) killGroup(child.pid, 'SIGKILL');
  running.delete(p);
}

function killHard(/** @type {Proc} */ p) {
  if (p.group) killGroup(p.child.pid, 'SIGKILL');
  else if (p.child.exitCode === null) p.child.kill('SIGKILL');
}

function killGroup(/** @type {number | undefined} */ pid, /** @type {NodeJS.Signals} */ sig) {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // the group is already gone
  }
}

/** Stops everything still running, newest first. */
export async function stopAll(graceMs = 30_000) {
  for (const p of [...running].reverse()) await stopProc(p, graceMs);
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is left. */
export function killAllNow() {
  for (const p of running) killHard(p);
  running.clear();
}
