import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  approveCli,
  auditRecords,
  devEnv,
  freshNamespace,
  kubectl,
  namespaceWithDeployment,
  type RunResult,
  requestIdIn,
  startExtraKubegate,
} from './helpers.js';

// The agent loop end to end: a plan proposed before anything runs, shown whole to approvers,
// approved once, run step by step through kubegate with real kubectl checking the result.

const admin = (args: string[]) => kubectl(args, { as: 'admin' });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kg-plans-'));
let files = 0;

/** Real `kubegate` CLI as the agent (the kubeconfig that points at kubegate). */
function kubegate(args: string[], input?: string): Promise<RunResult> {
  const env = devEnv();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [path.resolve('dist/cli/kubegate.js'), ...args],
      { timeout: 120_000, env: { ...process.env, KUBECONFIG: env.KUBECONFIG } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

function planFile(doc: unknown): string {
  const f = path.join(tmp, `plan-${++files}.yaml`);
  writeFileSync(f, typeof doc === 'string' ? doc : YAML.stringify(doc));
  return f;
}

const planIdIn = (text: string) => {
  const m = /plan-\d{8}-\d{3,}/.exec(text);
  if (!m) throw new Error(`no plan id in: ${text}`);
  return m[0];
};

async function submit(doc: unknown): Promise<string> {
  const r = await kubegate(['plan', 'submit', planFile(doc)]);
  expect(r.code, r.stderr).toBe(0);
  return planIdIn(r.stdout);
}

const deployment = namespaceWithDeployment;

const get = async (ns: string, what: string, jsonpath: string) =>
  (await admin(['get', what, '-n', ns, '-o', `jsonpath=${jsonpath}`])).stdout;

const cm = (ns: string, name: string, data: Record<string, string>) => ({
  apply: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data },
});
const dep = (ns: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' });

const planRecords = (id: string) => auditRecords().filter((r) => r.plan_id === id);

describe('plans: proposed, approved whole, run step by step', () => {
  it('a three-step plan runs once approved, ends in the planned state, with one audit trail', async () => {
    const ns = await deployment('plan3');
    const id = await submit({
      title: 'configure and resize web',
      why: 'web needs its config, three replicas and the pinned image',
      estimate: '1m',
      steps: [
        cm(ns, 'web-config', { mode: 'blue' }),
        // pods run on the simulated node: the step waits until three are ready
        { scale: { ...dep(ns), replicas: 3 }, checks: [{ available: { ...dep(ns), replicas: 3 } }] },
        {
          patch: {
            ...dep(ns),
            type: 'strategic',
            patch: { spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] } } } },
          },
        },
      ],
      checks: [
        { exists: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'web-config' } },
        { equals: { ...dep(ns), field: 'spec.template.spec.containers[0].image', value: 'nginx:1.27' } },
        { available: { ...dep(ns), replicas: 3 } },
        { noCrashLoop: { namespace: ns, selector: 'app=web' } },
      ],
    });
    // nothing ran yet
    expect((await admin(['get', 'configmap', 'web-config', '-n', ns])).code).not.toBe(0);
    expect(await get(ns, 'deployment/web', '{.spec.replicas}')).toBe('1');

    const early = await kubegate(['plan', 'run', id]);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toMatch(/not approved yet/);
    expect(early.stderr).toContain(`approve-cli approve ${id}`);

    const shown = await approveCli(['show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('all 3 match');
    expect(shown.stdout).toMatch(/step 1: apply ConfigMap/);
    expect(shown.stdout).toMatch(/step 2: scale apps\/deployments .*web to 3/);
    expect(shown.stdout).toMatch(/spec.replicas: 1 -> 3/);
    expect(shown.stdout).toMatch(/step 3: patch \(strategic\)/);
    expect(shown.stdout).toMatch(/rollback: .*scale back to 1/);

    const ok = await approveCli(['approve', id]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('kubegate plan run');

    const run = await kubegate(['plan', 'run', id]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`${id} succeeded`);
    expect(await get(ns, 'configmap/web-config', '{.data.mode}')).toBe('blue');
    expect(await get(ns, 'deployment/web', '{.spec.replicas}')).toBe('3');
    expect(await get(ns, 'deployment/web', '{.spec.template.spec.containers[0].image}')).toBe('nginx:1.27');

    const events = planRecords(id).map((r) => `${r.event}${r.plan_step ? ` ${r.plan_step}` : ''}`);
    for (const e of [
      'plan_submitted',
      'plan_approved',
      'plan_started',
      'executed 1',
      'executed 2',
      'executed 3',
      'validated',
      'plan_finished',
    ])
      expect(events).toContain(e);
    expect(events.indexOf('executed 1')).toBeLessThan(events.indexOf('executed 2'));
    expect(events.indexOf('executed 2')).toBeLessThan(events.indexOf('executed 3'));

    const again = await kubegate(['plan', 'run', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/succeeded: it cannot run/);
  });

  it('a failing second step stops the run; the third never runs; the rollback plan undoes what ran after its own approval', async () => {
    const ns = await freshNamespace('planfail');
    const id = await submit({
      title: 'three config maps',
      why: 'the second one is checked for a value it never gets',
      steps: [
        cm(ns, 'first', { n: '1' }),
        {
          ...cm(ns, 'second', { n: '2' }),
          timeout: '3s',
          checks: [
            {
              equals: {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                namespace: ns,
                name: 'second',
                field: 'data.n',
                value: 'never',
              },
            },
          ],
        },
        cm(ns, 'third', { n: '3' }),
      ],
    });
    expect((await approveCli(['approve', id])).code).toBe(0);
    const run = await kubegate(['plan', 'run', id]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/step 2 .*failed: checks failed: .*expected "never", observed "2"/);
    expect(run.stdout).toContain(`approve-cli rollback ${id}`);
    expect((await admin(['get', 'configmap', 'third', '-n', ns])).code).not.toBe(0);
    const status = await kubegate(['plan', 'status', id, '-o', 'json']);
    expect(JSON.parse(status.stdout).steps.map((s: { status: string }) => s.status)).toEqual([
      'done',
      'failed',
      'skipped',
    ]);

    const rb = await approveCli(['rollback', id]);
    expect(rb.code, rb.stderr).toBe(0);
    const rbId = planIdIn(rb.stdout);
    expect(rb.stderr).toMatch(/1\. .*second/);
    expect(rb.stderr).toMatch(/2\. .*first/);
    const byProposer = await approveCli(['approve', rbId]);
    expect(byProposer.code).not.toBe(0);
    expect(byProposer.stderr).toMatch(/proposed/);
    expect((await approveCli(['approve', rbId], 'bob')).code).toBe(0);
    const undo = await kubegate(['plan', 'run', rbId]);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect((await admin(['get', 'configmap', 'first', '-n', ns])).code).not.toBe(0);
    expect((await admin(['get', 'configmap', 'second', '-n', ns])).code).not.toBe(0);
  });

  it('stop during a run finishes the current step and leaves the later steps unrun', async () => {
    const ns = await freshNamespace('planstop');
    expect((await admin(['create', 'configmap', 'blocker', '-n', ns])).code).toBe(0);
    const id = await submit({
      title: 'slow first step',
      why: 'step 1 waits until the blocker is gone',
      steps: [
        {
          ...cm(ns, 'one', { n: '1' }),
          timeout: '60s',
          checks: [{ absent: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'blocker' } }],
        },
        cm(ns, 'two', { n: '2' }),
        cm(ns, 'three', { n: '3' }),
      ],
    });
    expect((await approveCli(['approve', id])).code).toBe(0);
    expect((await kubegate(['plan', 'run', id, '--detach'])).code).toBe(0);
    const stop = await kubegate(['plan', 'stop', id]);
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/stopping/);
    expect((await admin(['delete', 'configmap', 'blocker', '-n', ns])).code).toBe(0);
    let status = '';
    for (let i = 0; i < 30 && !/"status": "stopped"/.test(status); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      status = (await kubegate(['plan', 'status', id, '-o', 'json'])).stdout;
    }
    const p = JSON.parse(status);
    expect(p.status).toBe('stopped');
    expect(p.steps.map((s: { status: string }) => s.status)).toEqual(['done', 'skipped', 'skipped']);
    expect((await admin(['get', 'configmap', 'two', '-n', ns])).code).not.toBe(0);
  });

  it('a step the policy denies refuses the whole plan with the reason; nothing is held', async () => {
    const r = await kubegate([
      'plan',
      'submit',
      planFile({ title: 'sneak', why: 'test', steps: [cm('kubegate-system', 'x', { a: 'b' })] }),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /step 1 \(apply ConfigMap configmaps kubegate-system\/x\): denied by policy: agents may not change or enter kubegate's own namespace/,
    );
  });

  it('regression (bypass round 7): a plan keeping too many bytes of objects for approvers is refused early', async () => {
    const ns = await freshNamespace('planbig');
    const big = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big', namespace: ns },
      data: { blob: 'x'.repeat(900_000) },
    };
    const made = await kubectl(['create', '-f', '-'], { as: 'admin', input: JSON.stringify(big) });
    expect(made.code, made.stderr).toBe(0);
    const steps = [1, 2, 3, 4, 5].map((n) => ({
      patch: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: ns,
        name: 'big',
        type: 'merge',
        patch: { data: { [`k${n}`]: 'v' } },
      },
    }));
    const r = await kubegate(['plan', 'submit', planFile({ title: 'amplify', why: 'test', steps })]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/more than 2097152 bytes of objects for its approvers: split it/);
  });

  it('a step whose object changed since approval (drift) stops the run before it', async () => {
    const ns = await deployment('plandrift');
    const id = await submit({ title: 'scale', why: 'test', steps: [{ scale: { ...dep(ns), replicas: 2 } }] });
    expect((await approveCli(['approve', id])).code).toBe(0);
    expect((await admin(['set', 'image', 'deployment/web', 'nginx=nginx:1.26', '-n', ns])).code).toBe(0);
    const run = await kubegate(['plan', 'run', id]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/drift: .*changed since the plan was approved/);
    expect(await get(ns, 'deployment/web', '{.spec.replicas}')).toBe('1');
  });

  it("a plan's approval does not approve the same request sent on its own", async () => {
    const ns = await deployment('planbound');
    const id = await submit({ title: 'scale', why: 'test', steps: [{ scale: { ...dep(ns), replicas: 4 } }] });
    expect((await approveCli(['approve', id])).code).toBe(0);
    const env = devEnv();
    const token = YAML.parse(readFileSync(env.KUBECONFIG!, 'utf8')).users[0].user.token as string;
    const url = new URL(`/apis/apps/v1/namespaces/${ns}/deployments/web/scale`, env.KUBEGATE_URL);
    const body = JSON.stringify({ spec: { replicas: 4 } });
    const status = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'PATCH',
          ca: readFileSync(env.KUBEGATE_CA!),
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/merge-patch+json',
            'content-length': body.length,
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status.code).toBe(403);
    expect(status.text).toMatch(/held for approval/);
    expect(await get(ns, 'deployment/web', '{.spec.replicas}')).toBe('1');
    const run = await kubegate(['plan', 'run', id]);
    expect(run.code, run.stdout).toBe(0);
    expect(await get(ns, 'deployment/web', '{.spec.replicas}')).toBe('4');
    // (bypass round 14) the plan's step ran on the plan's approval: the standalone request held
    // beside it is still its own, unapproved and unrun (before, the step spent and settled it)
    const shown = await approveCli(['show', requestIdIn(status.text), '-o', 'json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'pending', approvals: [] });
  });

  it('a multi-document manifest file becomes one plan, approved once', async () => {
    const ns = await freshNamespace('planmulti');
    const docs = ['a', 'b', 'c'].map((n) => YAML.stringify(cm(ns, n, { n }).apply)).join('---\n');
    const f = planFile(docs);
    const r = await kubegate(['plan', 'submit', '-f', f]);
    expect(r.code, r.stderr).toBe(0);
    const id = planIdIn(r.stdout);
    expect(r.stdout.match(/apply ConfigMap/g)?.length).toBe(3);
    expect((await approveCli(['approve', id])).code).toBe(0);
    expect((await kubegate(['plan', 'run', id])).code).toBe(0);
    for (const n of ['a', 'b', 'c']) expect(await get(ns, `configmap/${n}`, '{.data.n}')).toBe(n);
  });

  it('a step on an object an earlier step creates has no dry run: approve-cli wants --blind, and says so', async () => {
    const ns = await freshNamespace('planblind');
    const deploy = {
      apply: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'web', image: 'nginx' }] },
          },
        },
      },
    };
    const id = await submit({
      title: 'create then scale',
      why: 'test',
      steps: [deploy, { scale: { ...dep(ns), replicas: 3 } }],
    });
    expect((await approveCli(['show', id])).stdout).toMatch(
      /dry run: NONE \(no dry run: an earlier step of this plan creates the object\)/,
    );
    const refused = await approveCli(['approve', id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/step 2 results in CANNOT BE SHOWN.*--blind/);
    expect((await approveCli(['approve', id, '--blind'])).code).toBe(0);
    expect(planRecords(id).find((r) => r.event === 'plan_approved')?.blind).toBe(true);
    const run = await kubegate(['plan', 'run', id]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await get(ns, 'deployment/web', '{.spec.replicas}')).toBe('3');
  });

  it('`kubegate plan example` runs as is', async () => {
    const example = await kubegate(['plan', 'example']);
    const id = await submit(example.stdout);
    expect((await approveCli(['approve', id])).code).toBe(0);
    const run = await kubegate(['plan', 'run', id]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await get('default', 'deployment/plan-demo', '{.spec.replicas}')).toBe('2');
  });
});

describe('plans: the same rules as requests', () => {
  it('a plan with a CRITICAL step needs the override and two different approvers; approve-cli list shows it', async () => {
    const ns = await freshNamespace('plancrit');
    const role = {
      apply: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'reader', namespace: ns },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
      },
    };
    const id = await submit({
      title: 'a role and its config',
      why: 'test',
      steps: [cm(ns, 'cfg', { a: 'b' }), role],
    });
    const listed = await approveCli(['list']);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+pending\\s+CRITICAL`));
    const shown = await approveCli(['show', id]);
    expect(shown.stdout).toMatch(/needs: +2 approvals from different approvers, with an override/);
    expect((await approveCli(['approve', id])).code).toBe(0);
    const early = await kubegate(['plan', 'run', id]);
    expect(early.code).not.toBe(0);
    expect(early.stderr).toMatch(/CRITICAL needs an override/);
    const twice = await approveCli(['approve', id, '--override', '--reason', 'again']);
    expect(twice.code).toBe(0);
    expect((await kubegate(['plan', 'run', id])).stderr).toMatch(
      /needs 2 approvals from different approvers/,
    );
    expect(
      (await approveCli(['approve', id, '--override', '--reason', 'reviewed the role'], 'bob')).code,
    ).toBe(0);
    const run = await kubegate(['plan', 'run', id]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect((await admin(['get', 'role', 'reader', '-n', ns])).code).toBe(0);
  });

  it('monitoring after the run records a regression with the rollback command', async () => {
    const ns = await freshNamespace('planmon');
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'watched' };
    const id = await submit({
      title: 'watched config',
      why: 'test',
      monitor: '20s',
      steps: [cm(ns, 'watched', { a: 'b' })],
      checks: [{ exists: ref }],
    });
    expect((await approveCli(['approve', id])).code).toBe(0);
    expect((await kubegate(['plan', 'run', id])).code).toBe(0);
    expect((await admin(['delete', 'configmap', 'watched', '-n', ns])).code).toBe(0);
    let regression: Record<string, unknown> | undefined;
    for (let i = 0; i < 30 && !regression; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      regression = planRecords(id).find((r) => r.event === 'monitor_regression');
    }
    expect(regression?.rollback).toBe(`approve-cli rollback ${id}`);
    expect(JSON.stringify(regression?.checks)).toContain('does not exist');
  });
});

describe("the requester's side", () => {
  it('a rejected request: the reason reaches the re-run at once, `kubegate requests` shows it, the API answers the requester', async () => {
    const ns = await deployment('mine');
    const first = await kubectl(['scale', 'deployment', 'web', '--replicas=5', '-n', ns]);
    const id = requestIdIn(first.stderr);
    expect((await approveCli(['reject', id, '--reason', 'not during the freeze window'])).code).toBe(0);
    const t0 = Date.now();
    const again = await kubectl(['scale', 'deployment', 'web', '--replicas=5', '-n', ns]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('rejected by alice: not during the freeze window');
    expect(Date.now() - t0).toBeLessThan(5000);
    // regression (bypass round 7): the rejected change cannot come back at once as a plan either
    const asPlan = await kubegate([
      'plan',
      'submit',
      planFile({ title: 'again', why: 'w', steps: [{ scale: { ...dep(ns), replicas: 5 } }] }),
    ]);
    expect(asPlan.code).not.toBe(0);
    expect(asPlan.stderr).toMatch(
      new RegExp(`step 1 .*it is the request ${id} that was just rejected by alice`),
    );
    const mine = await kubegate(['requests']);
    expect(mine.code, mine.stderr).toBe(0);
    expect(mine.stdout).toMatch(new RegExp(`${id}\\s+rejected .*not during the freeze window`));

    const env = devEnv();
    const token = YAML.parse(readFileSync(env.KUBECONFIG!, 'utf8')).users[0].user.token as string;
    const code = await new Promise<number>((resolve, reject) => {
      https
        .get(
          new URL(`/kubegate/v1/requests/${id}`, env.KUBEGATE_URL),
          { ca: readFileSync(env.KUBEGATE_CA!), headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    expect(code).toBe(200);
  });

  it('a request nobody decides in time expires; its requester sees it expired', async () => {
    const ns = await deployment('expiry');
    const extra = await startExtraKubegate('expiry', {
      execution: { hold_seconds: 1, pending_expiry_seconds: 10 },
    });
    try {
      const held = await kubectl(['scale', 'deployment', 'web', '--replicas=2', '-n', ns], {
        kubeconfig: extra.kubeconfig,
      });
      const id = requestIdIn(held.stderr);
      let listed = '';
      for (let i = 0; i < 40 && !listed.includes('expired'); i++) {
        await new Promise((r) => setTimeout(r, 1000));
        listed = (await kubegate(['requests', '--kubeconfig', extra.kubeconfig])).stdout;
      }
      expect(listed).toMatch(new RegExp(`${id}\\s+expired .*run it again to ask again`));
    } finally {
      await extra.stop();
    }
  });
});
