// With several clusters behind one kubegate, an approval names the clusters it is for in its
// audience (next to kubegate's cluster_name): it approves nothing on any other cluster.
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Notifier } from '../../src/approval/notifier.js';
import { ApprovalService } from '../../src/approval/service.js';
import { ApprovalError } from '../../src/approval/token.js';
import { AuditLog } from '../../src/audit/log.js';
import { RequestAudit } from '../../src/chain/audit.js';
import { parseConfig } from '../../src/config.js';
import { StatusError } from '../../src/kube/status.js';
import { createMetrics } from '../../src/metrics.js';
import { SqliteStore } from '../../src/state/sqlite.js';
import { type ApprovalClaims, signApproval } from '../../src/wire/approval-token.js';
import { type ApproverJwks, type ApproverKeyFile, generateApproverKey } from '../../src/wire/approver-key.js';
import { fingerprint } from '../../src/wire/fingerprint.js';
import type { PendingRequest } from '../../src/wire/request-view.js';
import { detail, tempDir } from './approvecli/helpers.js';

const GATE = 'kubegate';
const REQUESTER = 'agent';
let cleanup: () => Promise<void>;
let dir: string;
let store: SqliteStore;
let audit: AuditLog;
let svc: ApprovalService;
const keys: Record<string, ApproverKeyFile> = {};

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  const jwks: ApproverJwks = { keys: [] };
  for (const name of ['alice', 'bob']) {
    const { privateJwk, publicJwk } = await generateApproverKey(name);
    keys[name] = privateJwk;
    jwks.keys.push(publicJwk);
  }
  store = new SqliteStore(join(dir, 'state.db'));
  audit = await AuditLog.open({ path: join(dir, 'audit.jsonl'), logger: pino({ level: 'silent' }) });
  const config = parseConfig(
    {
      tls: { cert: 'x', key: 'x' },
      policy: { bundle: 'x' },
      approvers: { jwks: 'x' },
      audit: { path: 'x' },
      cluster_name: GATE,
      clusters: [
        { name: 'prod', upstream: { url: 'https://prod.example:6443' } },
        { name: 'staging', upstream: { url: 'https://staging.example:6443' } },
      ],
    },
    dir,
  );
  const logger = pino({ level: 'silent' });
  const requests = new RequestAudit(audit, createMetrics({ defaultMetrics: false }), logger, {
    approvalDisabled: false,
    reads: 'none',
  });
  svc = new ApprovalService({
    config,
    store,
    notifier: new Notifier(),
    audit: requests,
    log: audit,
    jwks: () => jwks,
    logger,
  });
});

afterEach(async () => {
  await audit.close();
  await store.close();
  await cleanup();
});

/** The same change, held on one cluster (its fingerprint names the cluster). */
async function held(id: string, cluster: string): Promise<PendingRequest> {
  const d = detail({ cluster });
  const p: PendingRequest = {
    id,
    fingerprint: fingerprint({ ...d, user: REQUESTER, body: d.body }),
    status: 'pending',
    requester: REQUESTER,
    risk: 'HIGH',
    reasons: ['change in a production namespace'],
    target: `${d.namespace}/${d.resource}/${d.name}`,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    detail: d,
  };
  await store.putPending(p);
  return p;
}

const sign = (audience: string | string[], claims: Partial<ApprovalClaims>, who = 'alice') =>
  signApproval(keys[who]!, audience, { action: 'approve', ...claims }, 60);

/** The ApprovalError a promise rejects with. */
async function refusal(p: Promise<unknown>): Promise<ApprovalError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApprovalError);
  return err as ApprovalError;
}

const need = { approvals: 1, override_required: false };

describe('an approval is for the clusters its audience names', () => {
  it('the same change on two clusters has two fingerprints', async () => {
    const onProd = await held('req-prod', 'prod');
    const onStaging = await held('req-staging', 'staging');
    expect(onProd.fingerprint).not.toBe(onStaging.fingerprint);
  });

  it('a token for [kubegate, staging] approves the staging request, and a prod request with it is a mismatch', async () => {
    const staging = await held('req-staging', 'staging');
    const prod = await held('req-prod', 'prod');
    const aud = [GATE, 'staging'];
    const ok = await svc.approve(await sign(aud, { fingerprints: [staging.fingerprint] }));
    expect(ok.approved.map((p) => p.id)).toEqual(['req-staging']);
    expect((await svc.count(staging.fingerprint, need, REQUESTER, undefined)).verdict.ok).toBe(true);

    const err = await refusal(svc.approve(await sign(aud, { fingerprints: [prod.fingerprint] })));
    expect(err.code).toBe('mismatch');
    expect(err.message).toMatch(/not for cluster "prod" \(its audience: kubegate, staging\)/);
    expect((await svc.count(prod.fingerprint, need, REQUESTER, undefined)).verdict.ok).toBe(false);
  });

  it('a token naming both approves both; one naming only kubegate approves neither', async () => {
    const staging = await held('req-staging', 'staging');
    const prod = await held('req-prod', 'prod');
    const fingerprints = [staging.fingerprint, prod.fingerprint];
    const resourceVersions = ['', ''];
    expect((await refusal(svc.approve(await sign(GATE, { fingerprints, resourceVersions })))).code).toBe(
      'mismatch',
    );
    // nothing of a refused token is kept: not even its staging half
    expect((await svc.count(staging.fingerprint, need, REQUESTER, undefined)).verdict.ok).toBe(false);
    const both = await svc.approve(await sign([GATE, 'prod', 'staging'], { fingerprints, resourceVersions }));
    expect(both.approved.map((p) => p.id).sort()).toEqual(['req-prod', 'req-staging']);
  });

  it('a token without kubegate in its audience is invalid, whatever clusters it names', async () => {
    const staging = await held('req-staging', 'staging');
    const err = await refusal(svc.approve(await sign(['staging'], { fingerprints: [staging.fingerprint] })));
    expect(err.code).toBe('invalid');
  });

  it('Kubegate-Approval on a prod request with a staging token is refused (403, on record)', async () => {
    const prod = await held('req-prod', 'prod');
    const facts = {
      request_id: 'req-prod-live',
      cluster: 'prod',
      action: 'patch',
      resource: prod.target,
      fingerprint: prod.fingerprint,
    };
    const stagingToken = await sign([GATE, 'staging'], {
      fingerprints: [prod.fingerprint],
      requestIds: [prod.id],
    });
    const refused = await svc.acceptWithRequest([stagingToken], prod.fingerprint, REQUESTER, facts).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(StatusError);
    expect(refused).toMatchObject({ code: 403 });
    expect((refused as Error).message).toMatch(/approval refused: .*not for cluster "prod"/);
    expect((await svc.count(prod.fingerprint, need, REQUESTER, undefined)).verdict.ok).toBe(false);
    // the same header with a token for prod is taken
    const prodToken = await sign(
      [GATE, 'prod'],
      { fingerprints: [prod.fingerprint], requestIds: [prod.id] },
      'bob',
    );
    await svc.acceptWithRequest([prodToken], prod.fingerprint, REQUESTER, facts);
    expect((await svc.count(prod.fingerprint, need, REQUESTER, undefined)).verdict.ok).toBe(true);
  });

  it("a plan's approval must name every cluster the plan touches", async () => {
    const plan = {
      id: 'plan-20261202-001',
      requester: REQUESTER,
      fingerprints: ['sha256:aa', 'sha256:bb'],
      clusters: ['prod', 'staging'],
    };
    const claims = { fingerprints: plan.fingerprints, planId: plan.id };
    const err = await refusal(svc.approvePlan(await sign([GATE, 'staging'], claims), plan));
    expect(err.code).toBe('mismatch');
    expect(err.message).toMatch(/not for cluster "prod"/);
    const v = await svc.approvePlan(await sign([GATE, 'prod', 'staging'], claims), plan);
    expect(v.audience).toEqual([GATE, 'prod', 'staging']);
  });

  it('(bypass round 14) a held request runs once: no header approval, and no spend, while it runs', async () => {
    const p = await held('req-running', 'prod');
    const claims = { fingerprints: [p.fingerprint], requestIds: [p.id] };
    const facts = { request_id: 'req-rerun', cluster: 'prod', action: 'create', resource: p.target };
    const first = await sign([GATE, 'prod'], claims, 'alice');
    const second = await sign([GATE, 'prod'], claims, 'bob');
    await svc.acceptWithRequest([first], p.fingerprint, REQUESTER, facts);
    const { live } = await svc.count(p.fingerprint, need, REQUESTER, undefined);
    const ref = { id: p.id, fingerprint: p.fingerprint, createdAt: p.createdAt };
    await svc.spend(ref, live);
    // while the first run goes on, a second token of the same request approves nothing
    await expect(svc.acceptWithRequest([second], p.fingerprint, REQUESTER, facts)).rejects.toThrow(
      /no longer held \(it is running or ran/,
    );
    // and the request cannot be spent a second time, whatever approvals there are
    await expect(svc.spend(ref, [])).rejects.toThrow(/no longer pending/);
  });
});
