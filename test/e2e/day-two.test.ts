import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  approveCli as approveCliAs,
  devEnv,
  dir,
  type ExtraKubegate,
  freshNamespace,
  kubectl,
  type RunResult,
  readAudit,
  recordsWhen,
  requestIdIn,
  startExtraKubegate,
} from './helpers.js';

// Day two as operator, approver and policy author, on a kubegate of its own (own approvers file,
// own policy) in front of the shared dev cluster.

const work = mkdtempSync(path.join(os.tmpdir(), 'kg-day-two-'));
const approversFile = path.join(work, 'approvers.jwks.json');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** approve-cli with any approver key file, against the day-two kubegate. */
const approveCli = (args: string[], key: string, url: string) => approveCliAs(args, { key }, url);

const keyOf = (who: string) =>
  ['alice', 'bob'].includes(who) ? path.join(dir, 'keys', `${who}.jwk`) : path.join(work, `${who}.jwk`);

/** The dev approvers file with groups: alice in sre; bob in payments-oncall and security. */
function writeApprovers(extra: object[] = []): void {
  const dev = JSON.parse(readFileSync(path.join(dir, 'approvers.jwks.json'), 'utf8')) as {
    keys: { name: string }[];
  };
  const groups: Record<string, string[]> = { alice: ['sre'], bob: ['payments-oncall', 'security'] };
  const keys = dev.keys.map((k) => ({ ...k, groups: groups[k.name] ?? [] }));
  const tmp = `${approversFile}.tmp`;
  writeFileSync(tmp, JSON.stringify({ keys: [...keys, ...extra] }));
  execFileSync('mv', [tmp, approversFile]);
}

/** The repo's policies plus scopes for `payments` and a new rule in audit mode, built into a bundle. */
function buildPolicy(payments: string, auditRule: string): { src: string; bundle: string } {
  const src = path.join(work, 'policies');
  cpSync('policies', src, { recursive: true });
  const data = JSON.parse(readFileSync(path.join(src, 'data.json'), 'utf8'));
  data.kubegate.defaults.namespace_approver_groups = { [payments]: ['payments-oncall'] };
  data.kubegate.defaults.critical_approver_groups = ['sre', 'security'];
  writeFileSync(path.join(src, 'data.json'), JSON.stringify(data));
  writeFileSync(path.join(src, 'zz_rollout.rego'), auditRule);
  const bundle = path.join(work, 'bundle');
  execFileSync('bash', ['scripts/policy-build.sh', src, '--out', bundle]);
  return { src, bundle };
}

const reviewsRule = (mode: string) =>
  `package kubegate\n\nrule_findings contains {"rule": "rollout.reviews", "risk": "HIGH", "reason": "access reviews (new rule)"${mode}} if {\n\tresource == "selfsubjectaccessreviews"\n}\n`;

function getText(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: readFileSync(devEnv().KUBEGATE_CA!) }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

let kg: ExtraKubegate;
let payments: string;
let policySrc: string;
/** The agent's kubectl through the day-two kubegate. */
const as = (args: string[]) => kubectl(args, { kubeconfig: kg.kubeconfig });

beforeAll(async () => {
  payments = await freshNamespace('payments');
  writeApprovers();
  const built = buildPolicy(payments, reviewsRule(', "mode": "audit"'));
  policySrc = built.src;
  kg = await startExtraKubegate('day-two', {
    approvers: { jwks: approversFile },
    policy: { bundle: built.bundle, watch: true },
    execution: { hold_seconds: 1 },
  });
});

afterAll(async () => {
  await kg?.stop();
});

describe('a fatal start is a fatal exit', () => {
  type Config = Record<string, Record<string, unknown>>;
  const base = () => YAML.parse(readFileSync(path.join(dir, 'kubegate.yaml'), 'utf8')) as Config;

  async function serveWith(mutate: (c: Config) => void) {
    const c = base();
    c.listen = { address: '127.0.0.1', port: 0 };
    c.audit = { ...c.audit, path: path.join(work, `broken-${Math.random()}`, 'actions-log.jsonl') };
    c.state = { type: 'file', path: path.join(work, `state-${Math.random()}.db`) };
    mutate(c);
    const file = path.join(dir, `day-two-broken-${Math.random()}.yaml`);
    writeFileSync(file, YAML.stringify(c));
    const t0 = Date.now();
    const child = spawn(process.execPath, ['dist/cli/kubegate.js', 'serve', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (b) => {
      err += b;
    });
    const code = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', (c) => {
        clearTimeout(kill);
        resolve(c);
      });
    });
    return { code, ms: Date.now() - t0, err };
  }

  /** How long starting node and loading kubegate takes here (the machine may be busy): `kubegate help`. */
  function startupMs(): number {
    const t0 = Date.now();
    execFileSync(process.execPath, ['dist/cli/kubegate.js', 'help']);
    return Date.now() - t0;
  }

  it('a missing certificate, a wrong state type and a port in use each exit non-zero within 2 s, naming the key', async () => {
    // 2 s of kubegate's own, on top of starting node and loading it, which a busy machine (parallel
    // shards on 2 CPUs) can slow down between the measure and the test: allow twice that
    const limit = 2000 + 2 * startupMs();
    const cert = await serveWith((c) => {
      c.tls = { ...c.tls, cert: 'certs/nope.crt' };
    });
    expect(cert.code).toBe(1);
    expect(cert.err).toMatch(/tls\.cert: no such file .*certs\/nope\.crt/);
    expect(cert.ms).toBeLessThan(limit);

    const state = await serveWith((c) => {
      c.state = { type: 'sqlite', path: 'x.db' };
    });
    expect(state.code).toBe(1);
    expect(state.err).toMatch(/state\.type: expected one of file, kubernetes/);

    const port = Number(new URL(devEnv().KUBEGATE_URL!).port);
    const inUse = await serveWith((c) => {
      c.listen = { address: '127.0.0.1', port };
    });
    expect(inUse.code).toBe(1);
    expect(inUse.err).toContain(`listen.port: 127.0.0.1:${port} is already in use`);
    expect(inUse.ms).toBeLessThan(limit);
  });
});

describe('approver scopes', () => {
  it('a payments change needs payments-oncall: alice (not in it) is refused, bob (in it) approves', async () => {
    const args = ['create', 'configmap', 'limits', '--from-literal=max=5', '-n', payments];
    const held = await as(args);
    expect(held.code).not.toBe(0);
    expect(held.stderr).toMatch(/needs an approver from group payments-oncall/);
    expect(held.stderr).toMatch(/one approver from each group: payments-oncall/);
    const id = requestIdIn(held.stderr);

    const show = await approveCli(['show', id], keyOf('alice'), kg.url);
    expect(show.stdout).toMatch(
      /approver groups: one approver from each of payments-oncall; still needed: payments-oncall/,
    );
    const alice = await approveCli(['approve', id], keyOf('alice'), kg.url);
    expect(alice.code).not.toBe(0);
    expect(alice.stderr).toMatch(/alice may not approve .*payments-oncall.*puts alice in sre/);

    const bob = await approveCli(['approve', id], keyOf('bob'), kg.url);
    expect(bob.code, bob.stderr).toBe(0);
    const again = await as(args);
    expect(again.code, again.stderr).toBe(0);
  });

  it('an approver added to the approvers file approves within seconds; CRITICAL needs sre AND security', async () => {
    // dana (sre) is onboarded while kubegate runs: keygen, add to the file, no restart
    const made = await approveCli(['keygen', '--name', 'dana', '--out', keyOf('dana')], '', kg.url);
    expect(made.code, made.stderr).toBe(0);
    writeApprovers([{ ...JSON.parse(made.stdout), groups: ['sre'] }]);

    const doomed = await freshNamespace('doomed');
    const del = ['delete', 'namespace', doomed, '--wait=false'];
    const held = await as(del);
    expect(held.stderr).toMatch(/one approver from each group: security, sre/);
    expect(held.stderr).toContain(
      `approve-cli approve ${requestIdIn(held.stderr)} --override --reason 'why this is needed'`,
    );
    const id = requestIdIn(held.stderr);

    let dana: RunResult = { code: 1, stdout: '', stderr: '' };
    for (let i = 0; i < 25 && dana.code !== 0; i++) {
      dana = await approveCli(['approve', id, '--override', '--reason', 'team gone'], keyOf('dana'), kg.url);
      if (dana.code !== 0) await sleep(200);
    }
    expect(dana.code, dana.stderr).toBe(0);
    // alice is sre too: two sre approvers still leave security uncovered
    expect((await approveCli(['approve', id], keyOf('alice'), kg.url)).code).toBe(0);
    const still = await as(del);
    expect(still.code).not.toBe(0);
    expect(still.stderr).toMatch(/needs an approver from group security/);
    const show = await approveCli(['show', id], keyOf('bob'), kg.url);
    expect(show.stdout).toMatch(/still needed: security/);

    expect((await approveCli(['approve', id], keyOf('bob'), kg.url)).code).toBe(0);
    const done = await as(del);
    expect(done.code, done.stderr).toBe(0);
  });
});

describe('records of a plan', () => {
  it('every record after a plan approval carries the plan id', async () => {
    const cmds = ['a', 'b'].map((n) => [
      'create',
      'configmap',
      `plan-${n}`,
      '--from-literal=x=1',
      '-n',
      payments,
    ]);
    const ids: string[] = [];
    for (const c of cmds) ids.push(requestIdIn((await as(c)).stderr));
    const ok = await approveCli(['approve', ...ids, '--plan'], keyOf('bob'), kg.url);
    expect(ok.code, ok.stderr).toBe(0);
    const plan = /batch-\d{8}-[0-9a-f]{8}/.exec(ok.stdout)?.[0];
    expect(plan).toBeDefined();
    for (const c of cmds) expect((await as(c)).code).toBe(0);
    const executed = (recs: Record<string, unknown>[], id: string) =>
      recs.some((r) => r.request_id === id && r.event === 'executed');
    const records = await recordsWhen((recs) => ids.every((id) => executed(recs, id)), kg.auditFile);
    for (const id of ids) {
      const after = records.filter(
        (r) => r.request_id === id && ['approved', 'forwarded', 'executed'].includes(String(r.event)),
      );
      expect(after.map((r) => r.event).sort()).toEqual(['approved', 'executed', 'forwarded']);
      for (const r of after) expect(r.plan_id).toBe(plan);
    }
  });
});

describe('kubectl auth can-i through kubegate', () => {
  it('answers as the apiserver does, with a Warning when kubegate would hold the verb', async () => {
    const ns = await freshNamespace('can-i');
    const held = await kubectl(['auth', 'can-i', 'delete', 'pods', '-n', ns]);
    expect(held.stdout.trim()).toBe('yes');
    expect(held.stderr).toMatch(/Warning: kubegate: delete pods would be held for approval \(HIGH: /);
    const read = await kubectl(['auth', 'can-i', 'get', 'pods', '-n', ns]);
    expect(read.stdout.trim()).toBe('yes');
    expect(read.stderr).not.toMatch(/would be held/);
    const scoped = await as(['auth', 'can-i', 'create', 'configmaps', '-n', payments]);
    expect(scoped.stderr).toMatch(
      /create configmaps would be held for approval \(MEDIUM: .*1 approval from payments-oncall\)/,
    );
  });
});

describe('a rule in audit mode', () => {
  it('lets its requests pass, records would_hold with the rule, counts it, and replay shows what enforcing it would hold', async () => {
    const r = await as(['auth', 'can-i', 'create', 'pods', '-n', payments]);
    expect(r.stdout.trim()).toBe('yes');
    const records = readAudit(kg.auditFile);
    const rec = records.find(
      (x) => x.event === 'forwarded' && String(x.action).includes('selfsubjectaccessreviews'),
    );
    expect(rec).toMatchObject({
      risk: 'LOW',
      would_hold: true,
      would_risk: 'HIGH',
      audit_rules: ['rollout.reviews'],
    });
    expect(await getText(`${kg.url}/kubegate/metrics`)).toMatch(
      /kubegate_policy_audit_mode_total\{rule="rollout.reviews",would="hold"[^}]*\} [1-9]/,
    );

    writeFileSync(path.join(policySrc, 'zz_rollout.rego'), reviewsRule(''));
    const out = execFileSync(
      process.execPath,
      ['dist/cli/kubegate.js', 'policy', 'replay', '--audit', kg.auditFile, '--policy', policySrc],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/ [1-9]\d* passed without approval and would now be held/);
    expect(out).toMatch(/selfsubjectaccessreviews.*LOW -> HIGH \(access reviews \(new rule\)\)/);
  });
});
