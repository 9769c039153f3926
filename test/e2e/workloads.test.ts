// A cluster where workloads run (KWOK plays the node): the diagnosis and execution half of the
// safety model with real kubectl through kubegate — logs, exec after approval, attach,
// port-forward, cp, rollout status, wait, debug.
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { criLogLine } from '../../src/dev/nodes.js';
import { freePort } from '../../src/dev/ports.js';
import {
  approveCli,
  auditRecords,
  devEnv,
  freshNamespace,
  kubectl,
  kubectlStream,
  type RunResult,
  waitForPending,
} from './helpers.js';

/** Runs a kubectl that kubegate holds, approves it as alice while held, and returns its result. */
async function approved(
  args: string[],
  target: string,
  opts: { input?: string; approve?: string[]; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const run = kubectl(args, {
    ...(opts.input === undefined ? {} : { input: opts.input }),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const p = await waitForPending(target);
  const a = await approveCli(['approve', p.id, ...(opts.approve ?? [])]);
  expect(a.code, a.stderr).toBe(0);
  return run;
}

/** The ids of the requests kubegate recorded as executed for a target, in order. */
function executedIds(target: string): string[] {
  return auditRecords()
    .filter((x) => x.resource === target && x.event === 'executed')
    .map((x) => String(x.request_id));
}

/**
 * The id of the request executed for a target after `before` others were: its `executed` record
 * rides the next group commit (within ~10 ms of the answer), so kubectl may return before it is there.
 */
async function nextExecutedId(target: string, before: number): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const ids = executedIds(target);
    if (ids.length > before) return ids[before]!;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no executed request for ${target} after the ${before} before it`);
}

/** The chained record that closed a session (written once both sides of the stream closed). */
async function sessionClosed(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const r = auditRecords().find((x) => x.request_id === id && x.event === 'session_closed');
    if (r) return r;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no session_closed record for ${id}`);
}

/** The kubegate CLI. */
function kubegate(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli/kubegate.js', ...args],
      { env: { ...process.env, KUBEGATE_AUDIT: devEnv().KUBEGATE_AUDIT } },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** Appends a line to what every simulated container logs. */
function log(text: string): void {
  appendFileSync(devEnv().KUBEGATE_NODE_LOGS!, criLogLine(text));
}

let ns = '';
let pod = '';

describe('a workload runs on the simulated node; kubectl diagnoses and acts on it through kubegate', () => {
  beforeAll(async () => {
    ns = await freshNamespace('work');
    const create = await approved(
      ['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '-n', ns],
      `${ns}/deployments/web`,
    );
    expect(create.code, create.stderr).toBe(0);
  });

  it('the approved Deployment rolls out: rollout status and wait --for=condition=Available succeed', async () => {
    const status = await kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('successfully rolled out');
    const wait = await kubectl([
      'wait',
      '--for=condition=Available',
      'deployment/web',
      '-n',
      ns,
      '--timeout=60s',
    ]);
    expect(wait.code, wait.stderr).toBe(0);
    const pods = await kubectl(['get', 'pods', '-n', ns, '-o', 'jsonpath={.items[*].status.phase}']);
    expect(pods.stdout.split(' ')).toEqual(['Running', 'Running']);
    pod = (await kubectl(['get', 'pods', '-n', ns, '-o', 'jsonpath={.items[0].metadata.name}'])).stdout;
    expect(pod).toMatch(/^web-/);
  });

  it('logs prints the container output, and logs -f follows new lines (LOW: straight through)', async () => {
    log(`first line for ${ns}`);
    const logs = await kubectl(['logs', '-n', ns, pod]);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toContain(`first line for ${ns}`);
    const follow = kubectlStream(['logs', '-f', '-n', ns, pod]);
    try {
      await follow.waitFor(`first line for ${ns}`);
      log(`followed line for ${ns}`);
      await follow.waitFor(`followed line for ${ns}`);
    } finally {
      follow.stop();
    }
  });

  it('exec -- echo hello is held, and once approved prints hello; exec -i carries stdin; both are recorded', async () => {
    const before = executedIds(`${ns}/pods/${pod}`).length;
    const exec = await approved(['exec', '-n', ns, pod, '--', 'echo', 'hello'], `${ns}/pods/${pod}`);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toBe('hello\n');
    const id = await nextExecutedId(`${ns}/pods/${pod}`, before);
    const closed = await sessionClosed(id);
    expect(closed).toMatchObject({ status: 'success', exit_status: 0, recording: { truncated: false } });
    const play = await kubegate(['audit', 'play', id, '--no-wait']);
    expect(play.code, play.stderr).toBe(0);
    expect(play.stdout).toBe('hello\n');
    const stdin = await approved(
      ['exec', '-i', '-n', ns, pod, '--', 'head', '-n', '1'],
      `${ns}/pods/${pod}`,
      { input: 'typed in\n' },
    );
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(stdin.stdout).toBe('typed in\n');
    // the recording is complete once its session is recorded closed (kubectl may return first)
    const stdinId = await nextExecutedId(`${ns}/pods/${pod}`, before + 1);
    await sessionClosed(stdinId);
    const cast = readFileSync(
      path.join(path.dirname(devEnv().KUBEGATE_AUDIT!), 'sessions', `${stdinId}.cast`),
      'utf8',
    );
    const events = cast
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => JSON.parse(l) as [number, string, string]);
    expect(
      events
        .filter((e) => e[1] === 'i')
        .map((e) => e[2])
        .join(''),
    ).toBe('typed in\n');
    expect(
      events
        .filter((e) => e[1] === 'o')
        .map((e) => e[2])
        .join(''),
    ).toBe('typed in\n');
  });

  it('audit verify checks every recording against its hash, and a changed recording fails it', async () => {
    const env = devEnv();
    const ok = await kubegate(['audit', 'verify', env.KUBEGATE_AUDIT!]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/recordings: (\d+) of \1 match their records/);
    // a copy of the log with one recording altered: verify fails and play refuses it
    const copy = mkdtempSync(path.join(os.tmpdir(), 'kg-rec-'));
    cpSync(path.dirname(env.KUBEGATE_AUDIT!), copy, { recursive: true });
    const log = path.join(copy, path.basename(env.KUBEGATE_AUDIT!));
    const id = executedIds(`${ns}/pods/${pod}`).pop();
    if (!id) throw new Error('no exec recorded for the pod');
    const cast = path.join(copy, 'sessions', `${id}.cast`);
    writeFileSync(cast, readFileSync(cast, 'utf8').replace('typed in', 'typed ok'));
    const bad = await kubegate(['audit', 'verify', log]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${id}: recording`);
    const play = await kubegate(['audit', 'play', id, '--audit', log, '--no-wait']);
    expect(play.code).toBe(1);
    expect(play.stdout).toBe('');
  });

  it('with recording on, an exec over SPDY (which kubegate cannot record) is refused, not passed unrecorded', async () => {
    const spdy = await approved(['exec', '-n', ns, pod, '--', 'echo', 'unrecorded'], `${ns}/pods/${pod}`, {
      env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' },
    });
    expect(spdy.code).not.toBe(0);
    expect(spdy.stdout).not.toContain('unrecorded');
    expect(spdy.stderr).toContain('can only do so over WebSocket');
    // nothing ran, so the approval was given back (a WebSocket retry may use it): withdraw the request
    // the outcome record is written as the answer goes out: wait for it rather than race it
    const refusedNow = () =>
      auditRecords().filter((r) => r.event === 'failed' && r.resource === `${ns}/pods/${pod}`);
    for (let i = 0; i < 50 && refusedNow().length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const refused = refusedNow();
    expect(refused.at(-1)).toMatchObject({ http_status: 400, approval_kept: true });
    const id = String(refused.at(-1)!.request_id);
    expect((await approveCli(['reject', id, '--reason', 'not recordable'])).code).toBe(0);
  });

  it('attach, once approved, streams what the container writes', async () => {
    const attach = kubectlStream(['attach', '-n', ns, pod]);
    try {
      const p = await waitForPending(`${ns}/pods/${pod}`);
      expect((await approveCli(['approve', p.id])).code).toBe(0);
      // the attach follows the container's output from when it joined: write until it shows
      for (let i = 0; i < 40 && !attach.output().includes(`attached ${ns}`); i++) {
        log(`attached ${ns}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await attach.waitFor(`attached ${ns}`, 1000);
    } finally {
      attach.stop();
    }
  });

  it('port-forward, once approved, carries an HTTP request to the pod and its answer back', async () => {
    const port = await freePort();
    const pf = kubectlStream(['port-forward', '-n', ns, `pod/${pod}`, `${port}:8080`]);
    try {
      const p = await waitForPending(`${ns}/pods/${pod}`);
      expect((await approveCli(['approve', p.id])).code).toBe(0);
      await pf.waitFor('Forwarding from');
      const res = await fetch(`http://127.0.0.1:${port}/ping`, { method: 'POST', body: `hello ${ns}` });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(`simulated pod got POST /ping hello ${ns}\n`);
    } finally {
      pf.stop();
    }
  });

  it('cp copies a file out of the pod once approved (it runs tar in the container)', async () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'kg-cp-'));
    const inPod = path.join(tmp, 'in-pod.txt'); // the simulated container's files are this machine's
    writeFileSync(inPod, `file from ${ns}\n`);
    const out = path.join(tmp, 'copied.txt');
    const cp = await approved(['cp', `${ns}/${pod}:${inPod}`, out], `${ns}/pods/${pod}`);
    expect(cp.code, cp.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`file from ${ns}\n`);
  });

  it('debug adds an ephemeral container only after a (blind: no dry run for it) approval', async () => {
    const debug = await approved(
      ['debug', '-n', ns, pod, '--image=busybox', '-c', 'dbg'],
      `${ns}/pods/${pod}`,
      {
        approve: ['--blind'],
      },
    );
    expect(debug.code, debug.stderr).toBe(0);
    const names = await kubectl(
      ['get', 'pod', pod, '-n', ns, '-o', 'jsonpath={.spec.ephemeralContainers[*].name}'],
      { as: 'admin' },
    );
    expect(names.stdout).toBe('dbg');
  });
});
