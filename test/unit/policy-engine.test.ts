import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { PolicyError, validateDecision } from '../../src/policy/decision.js';
import { PolicyEngine } from '../../src/policy/engine.js';
import type { PolicyInput } from '../../src/policy/input.js';

// The real bundle compiled by `opa build -t wasm` (scripts/policy-build.sh runs before the unit tests).
const bundle = path.resolve('dist/policy');
const quiet = pino({ level: 'silent' });

function input(ns: string): PolicyInput {
  return {
    request: {
      verb: 'patch',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      subresource: '',
      namespace: ns,
      name: 'c',
      dryRun: false,
      path: `/api/v1/namespaces/${ns}/configmaps/c`,
      query: {},
      contentType: 'application/merge-patch+json',
      resourceRequest: true,
      impersonate: { user: null, uid: null, groups: [], extra: {} },
    },
    user: { username: 'dev', uid: '', groups: [], extra: {} },
    cluster: { name: 'kubegate', labels: {} },
    object: { data: { a: '1' } },
    oldObject: null,
    config: {},
  };
}

function copyBundle(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kg-policy-'));
  cpSync(bundle, dir, { recursive: true });
  return dir;
}

describe('policy engine: compiled Rego in-process, hot reload, fail closed', () => {
  it('decides with the shipped bundle and stamps the version', async () => {
    const engine = await PolicyEngine.load(copyBundle(), quiet);
    const d = engine.decide(input('team-a'));
    expect(d.risk).toBe('MEDIUM');
    expect(d.policy).toMatch(/^[0-9a-f]{64}$/);
    expect(engine.decide(input('production')).risk).toBe('HIGH');
  });

  it('decides an input given as JSON text exactly as the input itself (non-ASCII included)', async () => {
    const engine = await PolicyEngine.load(copyBundle(), quiet);
    for (const ns of ['team-a', 'production', 'équipe-ü']) {
      const i = input(ns);
      expect(engine.decideJson(JSON.stringify(i))).toEqual(engine.decide(i));
    }
  });

  it('refuses a broken bundle and keeps the old one in force, then swaps in a good one', async () => {
    const dir = copyBundle();
    const engine = await PolicyEngine.load(dir, quiet);
    const v1 = engine.version;
    writeFileSync(path.join(dir, 'policy.wasm'), 'not wasm');
    expect(await engine.reload()).toBe(false);
    expect(engine.version).toBe(v1);
    expect(engine.decide(input('team-a')).risk).toBe('MEDIUM');

    cpSync(path.join(bundle, 'policy.wasm'), path.join(dir, 'policy.wasm'));
    const data = JSON.parse(readFileSync(path.join(bundle, 'data.json'), 'utf8'));
    data.kubegate.defaults.production_namespaces = ['team-a'];
    writeFileSync(path.join(dir, 'data.json'), JSON.stringify(data));
    expect(await engine.reload()).toBe(true);
    expect(engine.version).not.toBe(v1);
    expect(engine.decide(input('team-a')).risk).toBe('HIGH');
  });

  it('keeps answering while bundles are swapped under load (watch)', async () => {
    const dir = copyBundle();
    const engine = await PolicyEngine.load(dir, quiet);
    let reloaded = '';
    engine.watch((v) => {
      reloaded = v;
    });
    const data = JSON.parse(readFileSync(path.join(bundle, 'data.json'), 'utf8'));
    data.kubegate.defaults.production_namespaces = ['other'];
    writeFileSync(path.join(dir, 'data.json'), JSON.stringify(data));
    const t0 = Date.now();
    let decisions = 0;
    while (!reloaded && Date.now() - t0 < 5000) {
      expect(engine.decide(input('team-a')).risk).toBe('MEDIUM');
      decisions++;
      await new Promise((r) => setImmediate(r));
    }
    engine.close();
    expect(reloaded).toBe(engine.version);
    expect(decisions).toBeGreaterThan(0);
  });

  it('treats a missing or malformed decision as an error (the gate refuses)', () => {
    expect(() => validateDecision(undefined, 'v')).toThrow(PolicyError);
    expect(() =>
      validateDecision(
        {
          risk: 'SEVERE',
          reasons: [],
          approvals: 1,
          override_required: false,
          dry_run_first: false,
          deny: [],
        },
        'v',
      ),
    ).toThrow(PolicyError);
    expect(() =>
      validateDecision(
        { risk: 'LOW', reasons: 'x', approvals: 0, override_required: false, dry_run_first: false, deny: [] },
        'v',
      ),
    ).toThrow(PolicyError);
    // a policy can not lower the floor: HIGH always needs one approval, CRITICAL two and an override
    expect(
      validateDecision(
        {
          risk: 'CRITICAL',
          reasons: [],
          approvals: 0,
          override_required: false,
          dry_run_first: false,
          deny: [],
        },
        'v',
      ),
    ).toMatchObject({ approvals: 2, override_required: true });
  });

  it('`kubegate policy eval` prints the decision for a hand-written input', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kg-eval-'));
    const file = path.join(dir, 'in.json');
    writeFileSync(
      file,
      JSON.stringify({
        request: { verb: 'delete', resource: 'namespaces', name: 'team-a' },
        user: { username: 'agent' },
      }),
    );
    const out = execFileSync(process.execPath, ['dist/cli/kubegate.js', 'policy', 'eval', '--input', file], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toMatchObject({ risk: 'CRITICAL', approvals: 2, override_required: true });
  });
});
