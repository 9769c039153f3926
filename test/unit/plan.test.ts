import { describe, expect, it } from 'vitest';
import { fieldOf, runCheck } from '../../src/plan/checks.js';
import { PlanFormatError, parsePlan, planFromManifests } from '../../src/plan/format.js';
import { EXAMPLE_PLAN } from '../../src/plan/render.js';
import { type Discover, stepRequest } from '../../src/plan/steps.js';

const discover: Discover = async (apiVersion, kind) => {
  const table: Record<string, { resource: string; namespaced: boolean }> = {
    'v1/ConfigMap': { resource: 'configmaps', namespaced: true },
    'apps/v1/Deployment': { resource: 'deployments', namespaced: true },
    'v1/Namespace': { resource: 'namespaces', namespaced: false },
  };
  const hit = table[`${apiVersion}/${kind}`];
  if (!hit) throw new Error(`no ${kind}`);
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return { group: group!, version: version!, ...hit };
};

describe('plan format', () => {
  it('reads the example plan, with durations and checks', () => {
    const p = parsePlan(EXAMPLE_PLAN);
    expect(p.steps).toHaveLength(2);
    expect(p.checks).toHaveLength(2);
    expect(
      parsePlan(
        'title: t\nwhy: w\nmonitor: 2m\nsteps: [{delete: {apiVersion: v1, kind: ConfigMap, namespace: a, name: b}, timeout: 30s}]',
      ).monitor,
    ).toBe(120);
  });

  it('refuses unknown keys, two actions in one step, shell text and aliases, naming where', () => {
    const bad = (text: string) => {
      try {
        parsePlan(text);
      } catch (err) {
        expect(err).toBeInstanceOf(PlanFormatError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('title: t\nwhy: w\nstep: []')).toMatch(/plan: Unrecognized key/);
    expect(bad('title: t\nwhy: w\nsteps: [{run: "kubectl delete ns prod"}]')).toMatch(/steps\[0\]/);
    expect(
      bad(
        'title: t\nwhy: w\nsteps: [{scale: {apiVersion: apps/v1, kind: Deployment, name: w, replicas: -1}}]',
      ),
    ).toMatch(/steps\[0\]/);
    expect(bad('title: t\nwhy: w\nsteps: []')).toMatch(/steps/);
    expect(bad('title: t\ntitle: u\nwhy: w\nsteps: []')).toMatch(/not valid YAML/);
    // regression (bypass round 7): terminal escapes in names hid a step from approve-cli show
    const esc =
      'title: t\nwhy: w\nsteps: [{name: "ok\\e[8m", delete: {apiVersion: v1, kind: ConfigMap, namespace: a, name: b}}]';
    expect(bad(esc)).toMatch(/steps\[0\]\.name: plain text only/);
    expect(
      bad(
        'title: "a\\u202eb"\nwhy: w\nsteps: [{delete: {apiVersion: v1, kind: ConfigMap, namespace: a, name: b}}]',
      ),
    ).toMatch(/title: plain text only/);
  });

  it('turns a multi-document manifest file (and a List) into apply steps in file order', () => {
    const p = planFromManifests(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: n}}\n',
      'apply f',
    );
    expect(p.steps.map((s) => ('apply' in s ? s.apply.metadata.name : ''))).toEqual(['a', 'b']);
    expect(() => planFromManifests('---\n', 't')).toThrow(/no objects/);
  });
});

describe('plan steps as requests', () => {
  const now = { now: new Date('2026-12-02T10:00:00Z'), requester: 'agent' };
  it('apply is a server-side apply owned by kubegate-plan; scale patches the scale subresource', async () => {
    const apply = await stepRequest(
      { apply: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' } }, checks: [] },
      discover,
      now,
    );
    expect(apply).toMatchObject({
      verb: 'patch',
      resource: 'configmaps',
      namespace: 'n',
      name: 'c',
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: ['kubegate-plan/agent'] },
    });
    const scale = await stepRequest(
      {
        scale: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'n', name: 'w', replicas: 3 },
        checks: [],
      },
      discover,
      now,
    );
    expect(scale).toMatchObject({ group: 'apps', subresource: 'scale', body: { spec: { replicas: 3 } } });
  });

  it('a restart is pinned at submission; scope mistakes are named', async () => {
    const r = await stepRequest(
      { restart: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'n', name: 'w' }, checks: [] },
      discover,
      now,
    );
    expect(JSON.stringify(r.body)).toContain('2026-12-02T10:00:00.000Z');
    await expect(
      stepRequest({ delete: { apiVersion: 'v1', kind: 'ConfigMap', name: 'c' }, checks: [] }, discover, now),
    ).rejects.toThrow(/namespaced: give its namespace/);
    await expect(
      stepRequest(
        { delete: { apiVersion: 'v1', kind: 'Namespace', namespace: 'x', name: 'c' }, checks: [] },
        discover,
        now,
      ),
    ).rejects.toThrow(/cluster-scoped/);
  });
});

describe('plan checks', () => {
  const obj = {
    metadata: { generation: 2 },
    spec: { replicas: 2, template: { spec: { containers: [{ image: 'nginx:1.27' }] } } },
    status: { observedGeneration: 2, readyReplicas: 2, conditions: [{ type: 'Available', status: 'True' }] },
  };
  const read = {
    object: async () => obj,
    pods: async () => [
      {
        metadata: { name: 'p' },
        status: { containerStatuses: [{ name: 'c', state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
      },
    ],
  };
  const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'n', name: 'w' };

  it('reads fields with list indexes', () => {
    expect(fieldOf(obj, 'spec.template.spec.containers[0].image')).toBe('nginx:1.27');
    expect(fieldOf(obj, 'spec.nothing.here')).toBeUndefined();
  });

  it('says what was expected and what was observed', async () => {
    expect(await runCheck({ available: { ...ref, replicas: 2 } }, read)).toMatchObject({ ok: true });
    expect(await runCheck({ available: { ...ref, replicas: 3 } }, read)).toMatchObject({
      ok: false,
      observed: 'Available=True, 2/3 ready',
    });
    expect(await runCheck({ equals: { ...ref, field: 'spec.replicas', value: 3 } }, read)).toMatchObject({
      ok: false,
      expected: '3',
      observed: '2',
    });
    expect(await runCheck({ noCrashLoop: { namespace: 'n' } }, read)).toMatchObject({
      ok: false,
      observed: 'CrashLoopBackOff: p/c',
    });
    expect(await runCheck({ absent: ref }, read)).toMatchObject({ ok: false });
  });
});

describe('approve-cli show of a plan', () => {
  const detail = {
    cluster: 'kubegate',
    verb: 'patch',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    subresource: '',
    namespace: 'n',
    name: 'c',
    path: '/api/v1/namespaces/n/configmaps/c',
    query: {},
    contentType: 'application/merge-patch+json',
    body: { data: { a: '2' } },
    oldObject: { metadata: { name: 'c' }, data: { a: '1', b: 'x' } },
    override_required: false,
    approvals_required: 1,
    dry_run_first: false,
    policy: 'p',
  };
  const plan = {
    id: 'plan-20261202-001',
    title: 'tidy\u001b[2J',
    why: 'line one\nline two\u001b[8m',
    requester: 'agent',
    risk: 'MEDIUM',
    reasons: [],
    approvals_required: 1,
    override_required: false,
    status: 'pending' as const,
    createdAt: 0,
    updatedAt: 0,
    steps: [
      {
        index: 1,
        summary: 'hidden\u001b[8m',
        fingerprint: 'sha256:x',
        risk: 'MEDIUM',
        reasons: [],
        target: 'n/configmaps/c',
        detail,
        dryRun: { metadata: { name: 'c' }, data: { a: '2' } },
        rollback: ['restore'],
        checks: [],
        expect: { exists: true },
        status: 'waiting' as const,
      },
    ],
    checks: [],
    approvals: [],
    rollback: [{ delete: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'api' } }],
  };

  it('prints no control character, shows the dry run result and the plan own rollback steps', async () => {
    const { renderPlanShow } = await import('../../src/approvecli/plan.js');
    const out = renderPlanShow(plan, ['sha256:x']);
    expect(out.includes('\u001b')).toBe(false);
    expect(out).toContain('hidden\\u{1b}[8m');
    expect(out).toContain('line two');
    expect(out).toMatch(/server-side dry run \(as the requester\): HTTP 200/);
    expect(out).toMatch(/data\.b: "x" -> \(removed\)/);
    expect(out).toMatch(/own rollback steps[^\n]*\n {2}1\. .*team-a/);
  });
});
