// A plan whose steps name clusters (`cluster:`): each step is decided on its own cluster, as the
// same requester there, and a plan that changes more than one cluster needs what CRITICAL needs
// (planNeeds in src/plan/submit.ts, reached through submitPlan).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Requester } from '../../src/api/requester.js';
import { AuditLog } from '../../src/audit/log.js';
import type { RequestContext } from '../../src/chain/context.js';
import { Clusters } from '../../src/clusters.js';
import { parseConfig } from '../../src/config.js';
import type { Identifier } from '../../src/identify.js';
import type { PlanDoc } from '../../src/plan/format.js';
import type { StepRequest } from '../../src/plan/steps.js';
import { type PlanDeps, submitPlan } from '../../src/plan/submit.js';
import type { Decision } from '../../src/policy/decision.js';
import type { UserInfo } from '../../src/policy/input.js';
import { SqliteStore } from '../../src/state/sqlite.js';
import { fingerprint } from '../../src/wire/fingerprint.js';
import { tempDir } from './approvecli/helpers.js';

const AGENT: UserInfo = { username: 'agent', uid: '', groups: ['agents'], extra: {} };

let dir: string;
let cleanup: () => Promise<void>;
let store: SqliteStore;
let log: AuditLog;
let clusters: Clusters;
/** What each cluster's API server says the agent's token is. */
let whoOn: Record<string, UserInfo>;
/** Each step's dry run as the chain saw it: its cluster and who sent it. */
let seen: { cluster: string; user: string; authorization: unknown }[];
/** The policy's decision for every step (a test may raise it). */
let decision: Decision;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  store = new SqliteStore(join(dir, 'state.db'));
  log = await AuditLog.open({ path: join(dir, 'audit.jsonl'), logger: pino({ level: 'silent' }) });
  clusters = Clusters.fromConfig(
    parseConfig(
      {
        tls: { cert: 'x', key: 'x' },
        policy: { bundle: 'x' },
        approvers: { jwks: 'x' },
        audit: { path: 'x' },
        clusters: [
          { name: 'prod', upstream: { url: 'https://prod.example:6443' } },
          { name: 'staging', upstream: { url: 'https://staging.example:6443' } },
        ],
      },
      dir,
    ),
  );
  whoOn = { prod: AGENT, staging: AGENT };
  // each cluster's identity review, without an API server: whoOn says who the token is there
  for (const c of clusters.all)
    c.identifier = {
      identify: async (creds: Record<string, unknown>) =>
        creds.authorization === 'Bearer agent-token'
          ? whoOn[c.name]!
          : { username: 'system:anonymous', uid: '', groups: [], extra: {} },
    } as unknown as Identifier;
  seen = [];
  decision = {
    risk: 'LOW',
    reasons: [],
    approvals: 0,
    override_required: false,
    dry_run_first: false,
    deny: [],
    approvals_from: [],
    audit_findings: [],
    policy: 'sha256:test',
  };
});

afterEach(async () => {
  clusters.close();
  await log.close();
  await store.close();
  await cleanup();
});

/** The request chain for a step's dry run: decides it (fingerprint on its cluster) and answers 200. */
async function handle(ctx: RequestContext) {
  const caller = ctx.caller!;
  seen.push({
    cluster: ctx.cluster.name,
    user: caller.user.username,
    authorization: caller.credentials.authorization,
  });
  const fp = fingerprint({
    ...ctx.kr,
    cluster: ctx.cluster.name,
    user: caller.user.username,
    body: ctx.body!.fingerprintBody,
  });
  ctx.decided = { fingerprint: fp, decision, live: null, summary: `${decision.risk} risk` };
  return { status: 200, body: ctx.body!.object };
}

const deps = (): PlanDeps => ({ handle, store, clusters, log, logger: pino({ level: 'silent' }) });

const requester = (through: string): Requester => ({
  user: AGENT,
  credentials: { authorization: 'Bearer agent-token' },
  cluster: clusters.get(through)!,
});

/** The same ConfigMap patch, for one cluster (undefined: the one the plan came through). */
const step = (cluster: string | undefined, value = '2'): StepRequest => ({
  ...(cluster ? { cluster } : {}),
  verb: 'patch',
  group: '',
  version: 'v1',
  resource: 'configmaps',
  subresource: '',
  namespace: 'app',
  name: 'settings',
  query: { fieldManager: ['kubegate-plan'] },
  contentType: 'application/merge-patch+json',
  body: { data: { level: value } },
  summary: `patch app/configmaps/settings on ${cluster ?? 'the plan cluster'}`,
});

const doc: PlanDoc = { title: 'roll settings', why: 'test', steps: [], checks: [] };

function auditRecords(): Record<string, unknown>[] {
  return readFileSync(join(dir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('a plan across clusters', () => {
  it('on one cluster it needs what its riskiest step needs (here nothing)', async () => {
    const plan = await submitPlan(deps(), doc, requester('prod'), {}, [
      step(undefined, '2'),
      step('prod', '3'),
    ]);
    expect(plan).toMatchObject({
      cluster: 'prod',
      risk: 'LOW',
      reasons: [],
      approvals_required: 0,
      override_required: false,
      status: 'approved',
    });
    expect(plan.steps.map((s) => s.detail.cluster)).toEqual(['prod', 'prod']);
    expect(seen.map((s) => s.cluster)).toEqual(['prod', 'prod']);
  });

  it('(bypass round 18, LOW) a rollback plan needs an approval even when its steps need none', async () => {
    const plan = await submitPlan(
      deps(),
      doc,
      requester('prod'),
      { rollbackOf: 'plan-20261203-001', proposedBy: 'alice' },
      [step(undefined, '2')],
    );
    expect(plan).toMatchObject({ risk: 'LOW', approvals_required: 1, status: 'pending' });
  });

  it('changing two clusters is CRITICAL: the override and two approvals, whatever the steps are', async () => {
    const plan = await submitPlan(deps(), doc, requester('prod'), {}, [step(undefined), step('staging')]);
    expect(plan.risk).toBe('CRITICAL');
    expect(plan.override_required).toBe(true);
    expect(plan.approvals_required).toBe(2);
    expect(plan.status).toBe('pending');
    expect(plan.reasons[0]).toBe('changes 2 clusters (prod, staging): a multi-cluster operation');
    // each step was decided on its own cluster, as the same requester with the same token
    expect(plan.steps.map((s) => s.detail.cluster)).toEqual(['prod', 'staging']);
    expect(seen).toEqual([
      { cluster: 'prod', user: 'agent', authorization: 'Bearer agent-token' },
      { cluster: 'staging', user: 'agent', authorization: 'Bearer agent-token' },
    ]);
    // the same change on two clusters is two requests (no "same request as step 1")
    expect(plan.steps[0]!.fingerprint).not.toBe(plan.steps[1]!.fingerprint);
    // the audit record names both clusters
    const submitted = auditRecords().find((r) => r.event === 'plan_submitted');
    expect(submitted).toMatchObject({ plan_id: plan.id, cluster: 'prod,staging', risk: 'CRITICAL' });
  });

  it('a step that needs more approvers than two keeps its count; its reasons follow the cluster one', async () => {
    decision = { ...decision, risk: 'HIGH', reasons: ['change in production'], approvals: 3 };
    const plan = await submitPlan(deps(), doc, requester('staging'), {}, [step('prod'), step('staging')]);
    expect(plan).toMatchObject({ risk: 'CRITICAL', approvals_required: 3, override_required: true });
    expect(plan.reasons).toEqual([
      'changes 2 clusters (prod, staging): a multi-cluster operation',
      'step 1: change in production',
      'step 2: change in production',
    ]);
  });

  it('a step on a cluster where the same token is someone else is refused', async () => {
    whoOn.staging = { username: 'other', uid: '', groups: [], extra: {} };
    await expect(
      submitPlan(deps(), doc, requester('prod'), {}, [step(undefined), step('staging')]),
    ).rejects.toMatchObject({
      code: 403,
      message: expect.stringMatching(/^step 2: on cluster staging your credentials are "other", not "agent"/),
    });
    expect(seen.map((s) => s.cluster)).toEqual(['prod']);
    expect((await store.listPlans())[0]?.status).toBe('refused');
  });

  it('a step on a cluster kubegate does not front is refused', async () => {
    await expect(submitPlan(deps(), doc, requester('prod'), {}, [step('nowhere')])).rejects.toMatchObject({
      code: 404,
      message: expect.stringMatching(/no cluster named "nowhere"/),
    });
    expect(seen).toEqual([]);
  });
});
