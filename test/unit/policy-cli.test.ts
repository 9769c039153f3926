import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runPolicyCommand } from '../../src/policy/cli.js';
import { PolicyEngine } from '../../src/policy/engine.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'kg-policy-cli-'));

async function run(args: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c) => {
    stdout += c;
  });
  err.on('data', (c) => {
    stderr += c;
  });
  const code = await runPolicyCommand(args, { stdout: out, stderr: err });
  return { code, stdout, stderr };
}

function inputFile(content: unknown): string {
  const f = path.join(tmp(), 'input.json');
  writeFileSync(f, JSON.stringify(content));
  return f;
}

/** A copy of the policies with one extra rule file. */
function policiesWith(rego: string): string {
  const dir = path.join(tmp(), 'policies');
  cpSync('policies', dir, { recursive: true });
  writeFileSync(path.join(dir, 'zz_rollout.rego'), rego);
  return dir;
}

describe('kubegate policy eval', () => {
  it('refuses unknown keys instead of reading a typo as a LOW read', async () => {
    const r = await run([
      'eval',
      '--input',
      inputFile({ requets: { verb: 'delete', resource: 'namespaces' } }),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /requets: unknown key \(allowed: request, user, cluster, object, oldObject, config\)/,
    );
    expect(r.stderr).toMatch(/request: missing/);
    expect(r.stdout).toBe('');
    const typo = await run(['eval', '--input', inputFile({ request: { verb: 'delete', resorce: 'pods' } })]);
    expect(typo.stderr).toMatch(/request\.resorce: unknown key/);
  });

  it('decides a well-formed input', async () => {
    const f = inputFile({ request: { verb: 'delete', resource: 'namespaces', name: 'x' } });
    const r = await run(['eval', '--input', f]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ risk: 'CRITICAL', approvals: 2 });
  });

  it('--help works on each subcommand', async () => {
    for (const sub of ['eval', 'replay']) {
      const r = await run([sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`usage: kubegate policy ${sub}`));
    }
    expect((await run(['--help'])).code).toBe(0);
    const bad = await run(['eval', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--nope'/);
  });
});

describe('kubegate policy replay', () => {
  const record = (seq: number, id: string, event: string, risk: string, request: Record<string, unknown>) =>
    JSON.stringify({
      seq,
      event,
      request_id: id,
      action: `${request.verb} ${request.resource}`,
      resource: `${request.namespace}/${request.resource}`,
      risk,
      policy_input: {
        request: { ...request, resourceRequest: true },
        user: { username: 'agent' },
        config: {},
      },
      body: null,
    });

  it('counts what a new rule would hold, and what an audit-mode rule would', async () => {
    const log = path.join(tmp(), 'actions-log.jsonl');
    writeFileSync(
      log,
      `${[
        record(1, 'req-1', 'forwarded', 'LOW', {
          verb: 'create',
          resource: 'selfsubjectreviews',
          group: 'authentication.k8s.io',
        }),
        record(2, 'req-2', 'held', 'MEDIUM', { verb: 'create', resource: 'configmaps', namespace: 'team' }),
        // the same request's later record is not a second request
        record(3, 'req-2', 'forwarded', 'MEDIUM', {
          verb: 'create',
          resource: 'configmaps',
          namespace: 'team',
        }),
        record(4, 'req-3', 'held', 'MEDIUM', {
          verb: 'create',
          resource: 'configmaps',
          namespace: 'audit-me',
        }),
      ].join('\n')}\n`,
    );
    const enforced = policiesWith(
      'package kubegate\n\nrule_findings contains {"rule": "zz.reviews", "risk": "HIGH", "reason": "reviews now held"} if {\n\tresource == "selfsubjectreviews"\n}\n',
    );
    const r = await run(['replay', '--audit', log, '--policy', enforced]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replayed 3 past requests/);
    expect(r.stdout).toMatch(/ 1 passed without approval and would now be held/);
    expect(r.stdout).toMatch(/req-1 create selfsubjectreviews .*: LOW -> HIGH \(reviews now held\)/);

    const auditMode = policiesWith(
      'package kubegate\n\nrule_findings contains {"rule": "zz.reviews", "risk": "HIGH", "reason": "reviews", "mode": "audit"} if {\n\tresource == "selfsubjectreviews"\n}\n',
    );
    const a = await run(['replay', '--audit', log, '--policy', auditMode]);
    expect(a.stdout).toMatch(/ 0 would be classified differently/);
    expect(a.stdout).toMatch(/ 1 would be held by rules in audit mode/);
  });
});

describe('scripts/policy-build.sh', () => {
  it('prints the version kubegate computes for the bundle, from any policy folder', async () => {
    const out = path.join(tmp(), 'bundle');
    const src = policiesWith('package kubegate\n');
    const printed = execFileSync('bash', ['scripts/policy-build.sh', src, '--out', out], {
      encoding: 'utf8',
    });
    const engine = await PolicyEngine.load(out, pino({ level: 'silent' }));
    expect(printed).toContain(`version ${engine.version}`);
    engine.close();
  });
});
