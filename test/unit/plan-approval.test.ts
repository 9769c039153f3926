// The approval service's rules for a whole plan: one token over exactly its steps, never the
// requester or the proposer, single use, bound to that plan.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, type JWK, SignJWT } from 'jose';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countApprovals } from '../../src/approval/count.js';
import { Notifier } from '../../src/approval/notifier.js';
import { objectContentHash } from '../../src/approval/object-version.js';
import { ApprovalService } from '../../src/approval/service.js';
import { AuditLog } from '../../src/audit/log.js';
import { RequestAudit } from '../../src/chain/audit.js';
import { parseConfig } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import { SqliteStore } from '../../src/state/sqlite.js';
import { type ApprovalClaims, signApproval } from '../../src/wire/approval-token.js';
import { type ApproverJwks, type ApproverKeyFile, generateApproverKey } from '../../src/wire/approver-key.js';
import type { PendingRequest } from '../../src/wire/request-view.js';
import { tempDir } from './approvecli/helpers.js';

const CLUSTER = 'c1';
const FPS = ['sha256:aa', 'sha256:bb'];
let cleanup: () => Promise<void>;
let store: SqliteStore;
let audit: AuditLog;
let auditFile: string;
let svc: ApprovalService;
const keys: Record<string, ApproverKeyFile> = {};

beforeEach(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  const jwks: ApproverJwks = { keys: [] };
  for (const name of ['alice', 'bob', 'agent']) {
    const { privateJwk, publicJwk } = await generateApproverKey(name);
    keys[name] = privateJwk;
    jwks.keys.push(publicJwk);
  }
  store = new SqliteStore(join(t.dir, 'state.db'));
  auditFile = join(t.dir, 'audit.jsonl');
  audit = await AuditLog.open({ path: auditFile, logger: pino({ level: 'silent' }) });
  const config = parseConfig(
    {
      tls: { cert: 'x', key: 'x' },
      policy: { bundle: 'x' },
      approvers: { jwks: 'x' },
      audit: { path: 'x' },
      cluster_name: CLUSTER,
    },
    t.dir,
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

const sign = (who: string, claims: Partial<ApprovalClaims>) =>
  signApproval(
    keys[who]!,
    CLUSTER,
    { action: 'approve', fingerprints: FPS, planId: 'plan-20261202-001', ...claims },
    60,
  );
/** A token from an approver whose clock is `ahead` seconds off kubegate's (negative: behind). */
async function signAhead(who: string, claims: Partial<ApprovalClaims>, ahead: number) {
  const k = keys[who]!;
  const iat = Math.floor(Date.now() / 1000) + ahead;
  const alg = k.kty === 'EC' ? 'ES256' : 'EdDSA';
  return new SignJWT({ kubegate: { action: 'approve', fingerprints: FPS, ...claims } })
    .setProtectedHeader({ alg, kid: k.kid, typ: 'kubegate-approval+jwt' })
    .setIssuer('approve-cli')
    .setAudience(CLUSTER)
    .setSubject(k.name)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .setJti(randomUUID())
    .sign(await importJWK(k as JWK, alg));
}
const plan = {
  id: 'plan-20261202-001',
  requester: 'agent',
  fingerprints: FPS,
  clusters: [CLUSTER],
  proposedBy: 'bob',
};
const need = { approvals: 1, override_required: false };

/** A held patch of configmap n/y with fingerprint FPS[0], requested by agent. */
function heldRequest(over: Partial<PendingRequest>): PendingRequest {
  const now = Date.now();
  return {
    id: 'req-1',
    fingerprint: FPS[0]!,
    status: 'pending',
    requester: 'agent',
    risk: 'MEDIUM',
    reasons: [],
    target: 'n/x/y',
    createdAt: now,
    updatedAt: now,
    detail: {
      cluster: CLUSTER,
      verb: 'patch',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      subresource: '',
      namespace: 'n',
      name: 'y',
      path: '/api/v1/namespaces/n/configmaps/y',
      query: {},
      contentType: 'application/merge-patch+json',
      body: {},
      oldObject: null,
      override_required: false,
      approvals_required: 1,
      dry_run_first: false,
      policy: 'p',
    },
    ...over,
  };
}

/** A held request put in the store, its audit facts, and the claims of a header token naming it. */
async function holdOne(over: Partial<PendingRequest> = {}) {
  const p = heldRequest(over);
  await store.putPending(p);
  const facts = { request_id: p.id, cluster: CLUSTER, action: p.detail.verb, resource: p.target };
  return { p, facts, one: { fingerprints: [p.fingerprint], requestIds: [p.id], planId: undefined } };
}

describe('ApprovalService.approvePlan', () => {
  it('stores one approval per step, counted only for that plan', async () => {
    await svc.approvePlan(await sign('alice', {}), plan);
    for (const fp of FPS) {
      expect((await svc.count(fp, need, 'agent', undefined, plan.id)).verdict.ok).toBe(true);
      // the same request on its own (or in another plan) does not count it
      expect((await svc.count(fp, need, 'agent', undefined)).verdict.ok).toBe(false);
      expect((await svc.count(fp, need, 'agent', undefined, 'plan-20261202-002')).verdict.ok).toBe(false);
    }
  });

  it('refuses the requester, the proposer, another plan, other steps, and a replay', async () => {
    await expect(svc.approvePlan(await sign('agent', {}), plan)).rejects.toThrow(
      /cannot approve their own request/,
    );
    await expect(svc.approvePlan(await sign('bob', {}), plan)).rejects.toThrow(/proposed plan-20261202-001/);
    await expect(svc.approvePlan(await sign('alice', { planId: 'plan-20261202-009' }), plan)).rejects.toThrow(
      /not for plan/,
    );
    await expect(
      svc.approvePlan(await sign('alice', { fingerprints: [FPS[1]!, FPS[0]!] }), plan),
    ).rejects.toThrow(/other steps/);
    await expect(svc.approvePlan(await sign('alice', { fingerprints: [FPS[0]!] }), plan)).rejects.toThrow(
      /other steps/,
    );
    const once = await sign('alice', {});
    await svc.approvePlan(once, plan);
    await expect(svc.approvePlan(once, plan)).rejects.toThrow(/replay/);
  });

  it('a request approval may not carry a plan id, even of a plan not proposed yet (CI: a random one collided)', async () => {
    await expect(svc.approve(await sign('alice', { planId: 'plan-20261202-077' }))).rejects.toThrow(
      /this approval is for plan plan-20261202-077/,
    );
    // a batch label is no plan: the token goes on to the pending check
    const batch = { planId: 'batch-20261202-0a1b2c3d', resourceVersions: ['', ''] };
    await expect(svc.approve(await sign('alice', batch))).rejects.toThrow(
      /no pending request has fingerprint/,
    );
  });

  it('(bypass round 11) a token for several requests binds each to the version its approver saw', async () => {
    const { facts } = await holdOne({ id: 'req-1', fingerprint: FPS[1]! });
    const batch = { planId: 'batch-20261202-0a1b2c3d', requestIds: ['req-0', 'req-1'] };
    await expect(
      svc.acceptWithRequest([await sign('alice', batch)], FPS[0]!, 'agent', facts),
    ).rejects.toThrow(/must name the resourceVersion of each object/);
    await expect(
      svc.acceptWithRequest(
        [await sign('alice', { ...batch, resourceVersions: ['7'] })],
        FPS[0]!,
        'agent',
        facts,
      ),
    ).rejects.toThrow(/one string per fingerprint/);
    const seen = { metadata: { resourceVersion: '9' }, data: { a: 'scratch' } };
    const token = await sign('alice', { ...batch, resourceVersions: ['7', '9'] });
    await svc.acceptWithRequest([token], FPS[1]!, 'agent', facts, [], seen);
    const [kept] = await store.approvalsFor(FPS[1]!, Date.now());
    expect(kept).toMatchObject({ resourceVersion: '9', objectHash: objectContentHash(seen) });
    expect((await svc.count(FPS[1]!, need, 'agent', '9', undefined, seen)).verdict.ok).toBe(true);
    const changed = { metadata: { resourceVersion: '10' }, data: { a: 'important' } };
    expect((await svc.count(FPS[1]!, need, 'agent', '10', undefined, changed)).verdict.ok).toBe(false);
  });

  it('approvals stored while a request ran are spent with it; approvals of its plan step are not', async () => {
    const { p, facts, one } = await holdOne();
    await svc.approvePlan(await sign('alice', {}), plan);
    await svc.acceptWithRequest([await sign('alice', one)], FPS[0]!, 'agent', facts);
    const { live } = await svc.count(FPS[0]!, need, 'agent', undefined);
    await svc.spend(p, live);
    // bob's approval, checked while the request waited, is stored after the count, while it runs
    await store.addApproval({ ...live[0]!, jti: 'bobs', approver: 'bob' });
    const spent = live.map((a) => a.jti);
    await svc.settle(p, spent, 'executed', 'HTTP 200', { fingerprint: FPS[0]! });
    expect((await svc.count(FPS[0]!, need, 'agent', undefined)).verdict.ok).toBe(false);
    expect((await svc.count(FPS[0]!, need, 'agent', undefined, plan.id)).verdict.ok).toBe(true);
  });

  it('(bypass round 13) a token signed before a run, and a header token of a request no longer held, approve nothing', async () => {
    const { p, facts, one } = await holdOne();
    const spare = await sign('alice', one);
    // a spare that also names the id the same change gets when held again (a guess, or a batch)
    const again = await sign('alice', { ...one, requestIds: [p.id, 'req-again'], withdrawals: [0] });
    await svc.acceptWithRequest([await sign('bob', one)], FPS[0]!, 'agent', facts);
    const { live } = await svc.count(FPS[0]!, need, 'agent', undefined);
    await svc.spend(p, live);
    const spent = live.map((a) => a.jti);
    await svc.settle(p, spent, 'executed', 'HTTP 201', { fingerprint: FPS[0]! });
    await holdOne({ id: 'req-again' });
    await expect(svc.acceptWithRequest([again], FPS[0]!, 'agent', facts)).rejects.toThrow(
      /signed before the request was rejected, revoked or run/,
    );
    await expect(svc.acceptWithRequest([spare], FPS[0]!, 'agent', facts)).rejects.toThrow(/no longer held/);
    // naming a request id: only while that request waits with this fingerprint
    const named = await sign('alice', { ...one, requestIds: ['req-gone'], withdrawals: [Date.now()] });
    await expect(svc.acceptWithRequest([named], FPS[0]!, 'agent', facts)).rejects.toThrow(
      /req-gone, which is no longer held/,
    );
  });

  it("(bypass round 14 open item) an approver's clock running ahead keeps no token alive past a run", async () => {
    const { p, facts, one } = await holdOne();
    // alice's clock runs 20 s ahead (iat and signedAt alike); her tokens also name the next hold
    const ahead = { ...one, requestIds: [p.id, 'req-again'], signedAt: Date.now() + 20_000 };
    const named = await signAhead('alice', { ...ahead, withdrawals: [0] }, 20);
    const bare = await signAhead('alice', ahead, 20);
    await svc.acceptWithRequest([await sign('bob', one)], FPS[0]!, 'agent', facts);
    const { live } = await svc.count(FPS[0]!, need, 'agent', undefined);
    await svc.spend(p, live);
    await holdOne({ id: 'req-again' });
    await svc.settle(
      p,
      live.map((a) => a.jti),
      'executed',
      'HTTP 201',
      { fingerprint: FPS[0]! },
    );
    for (const token of [named, bare])
      await expect(svc.acceptWithRequest([token], FPS[0]!, 'agent', facts)).rejects.toThrow(
        /signed before the request was rejected, revoked or run/,
      );
  });

  it("an approver's clock running behind does not void a fresh approval that names the last withdrawal", async () => {
    const { p, facts, one } = await holdOne();
    await svc.acceptWithRequest([await sign('bob', one)], FPS[0]!, 'agent', facts);
    const { live } = await svc.count(FPS[0]!, need, 'agent', undefined);
    await svc.spend(p, live);
    await svc.settle(
      p,
      live.map((a) => a.jti),
      'executed',
      'HTTP 201',
      { fingerprint: FPS[0]! },
    );
    const last = await store.withdrawnAt(FPS[0]!);
    // the same change held again; alice's clock runs 20 s behind
    const next = await holdOne({ id: 'req-again' });
    const behind = { ...next.one, signedAt: Date.now() - 20_000 };
    await expect(
      svc.acceptWithRequest([await signAhead('alice', behind, -20)], FPS[0]!, 'agent', facts),
    ).rejects.toThrow(/signed before/);
    const fresh = await signAhead('alice', { ...behind, withdrawals: [last] }, -20);
    await svc.acceptWithRequest([fresh], FPS[0]!, 'agent', facts);
    expect((await svc.count(FPS[0]!, need, 'agent', undefined)).verdict.ok).toBe(true);
  });

  it('an approval stored just as a withdrawal lands (another replica) is revoked, not kept', async () => {
    const { facts, one } = await holdOne();
    const add = store.addApproval.bind(store);
    // the other replica's withdrawal: its revoke ran before this store, its mark right after
    store.addApproval = async (a) => {
      const stored = await add(a);
      await store.markWithdrawn(a.fingerprint, Date.now());
      return stored;
    };
    const token = await sign('alice', { ...one, withdrawals: [0] });
    await expect(svc.acceptWithRequest([token], FPS[0]!, 'agent', facts)).rejects.toThrow(/signed before/);
    expect(await store.approvalsFor(FPS[0]!, Date.now())).toEqual([]);
  });

  it('(bypass round 15, weak spot) a held request whose approvals went as it was spent waits again, not stuck as running', async () => {
    const { p, facts, one } = await holdOne();
    await svc.acceptWithRequest([await sign('bob', one)], FPS[0]!, 'agent', facts);
    const { live } = await svc.count(FPS[0]!, need, 'agent', undefined);
    // a revoke lands between the count and the spend
    await store.revokeApprovals({ fingerprint: FPS[0]! }, Date.now());
    await expect(svc.spend(p, live)).rejects.toThrow(/at the same moment/);
    expect((await store.getPending(p.id))?.status).toBe('pending');
  });

  it('(bypass round 16) an approval revoked while its run was under way stays revoked when nothing ran (give-back)', async () => {
    const { p, facts, one } = await holdOne();
    await svc.acceptWithRequest([await sign('bob', one)], FPS[0]!, 'agent', facts);
    const { live } = await svc.count(FPS[0]!, need, 'agent', undefined);
    await svc.spend(p, live);
    // the upgrade waits on a kubelet; alice revokes meanwhile; then the upstream refuses it
    expect(await svc.revoke(await sign('alice', { action: 'revoke', requestIds: [p.id] }), p.id)).toBe(0);
    await svc.settle(
      p,
      live.map((a) => a.jti),
      'give-back',
      'HTTP 500',
      { fingerprint: FPS[0]! },
    );
    expect((await store.getPending(p.id))?.status).toBe('pending');
    expect((await svc.count(FPS[0]!, need, 'agent', undefined)).verdict.ok).toBe(false);
  });

  it('(bypass round 16) a Kubegate-Approval token must name the held request: one naming none approves nothing', async () => {
    const { facts } = await holdOne();
    const anyRequest = await sign('alice', { fingerprints: [FPS[0]!], planId: undefined });
    await expect(svc.acceptWithRequest([anyRequest], FPS[0]!, 'agent', facts)).rejects.toThrow(
      /must name the held request it approves/,
    );
    expect(await store.approvalsFor(FPS[0]!, Date.now())).toEqual([]);
  });

  /**
   * Each case's request is held, approved and spent (a run under way), then `withdraw` lands on it
   * before the run settles with `outcome`: it must end `status`, its approval spent either way.
   */
  async function withdrawMidRun(
    withdraw: (requestId: string) => Promise<void>,
    cases: readonly (readonly ['give-back' | 'executed', string, string])[],
  ): Promise<void> {
    for (const [outcome, status, fp] of cases) {
      const { p, facts, one } = await holdOne({ id: `req-${outcome}`, fingerprint: fp });
      await svc.acceptWithRequest([await sign('alice', one)], fp, 'agent', facts);
      const { live } = await svc.count(fp, need, 'agent', undefined);
      await svc.spend(p, live);
      await withdraw(p.id);
      await svc.settle(
        p,
        live.map((a) => a.jti),
        outcome,
        'HTTP 201',
        { fingerprint: fp },
      );
      expect((await store.getPending(p.id))?.status).toBe(status);
      expect((await svc.count(fp, need, 'agent', undefined)).verdict.ok).toBe(false);
    }
  }

  it('(bypass round 17) a reject while a run is under way lands: nothing ran, it stays rejected; it ran, it is executed', async () => {
    const reject = async (id: string) => {
      await svc.reject(await sign('bob', { action: 'reject', requestIds: [id], reason: 'no' }), id);
    };
    await withdrawMidRun(reject, [
      ['give-back', 'rejected', FPS[0]!],
      ['executed', 'executed', FPS[1]!],
    ]);
  });

  it('a freeze while a run is under way: nothing ran, it stays cancelled; it ran, it is executed', async () => {
    const freeze = async () => {
      const token = await signApproval(keys.bob!, CLUSTER, { action: 'freeze', freeze: true }, 60);
      expect((await svc.freeze(token)).cancelled).toBe(1);
    };
    await withdrawMidRun(freeze, [
      ['give-back', 'cancelled', FPS[0]!],
      ['executed', 'executed', FPS[1]!],
    ]);
  });

  it('(bypass round 18) a header approval is recorded on the held request it approves, not on the pass that brought it', async () => {
    const { p, facts, one } = await holdOne();
    await svc.acceptWithRequest([await sign('alice', one)], FPS[0]!, 'agent', {
      ...facts,
      request_id: 'req-this-pass',
    });
    const approved = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((r) => r.event === 'approved');
    expect(approved.map((r) => r.request_id)).toEqual([p.id]);
  });

  it('a withdrawn plan (rejected, cancelled) takes no approval signed before', async () => {
    const early = await sign('alice', {});
    await new Promise((r) => setTimeout(r, 5));
    await svc.withdrawPlan(FPS);
    await expect(svc.approvePlan(early, plan)).rejects.toThrow(
      /signed before the request was rejected, revoked or run/,
    );
  });

  it('an emergency freeze cancels held plans and withdraws their approvals', async () => {
    const now = Date.now();
    const held = {
      id: plan.id,
      title: 't',
      why: 'w',
      requester: 'agent',
      risk: 'MEDIUM',
      reasons: [],
      approvals_required: 1,
      override_required: false,
      status: 'approved' as const,
      createdAt: now,
      updatedAt: now,
      steps: FPS.map((fingerprint, i) => ({ index: i + 1, fingerprint, status: 'waiting' as const })),
      checks: [],
      approvals: [],
    };
    await store.createPlan(held as never);
    await svc.approvePlan(await sign('alice', {}), plan);
    const freeze = await signApproval(keys.alice!, CLUSTER, { action: 'freeze', freeze: true }, 60);
    expect((await svc.freeze(freeze)).cancelled).toBe(1);
    expect((await store.getPlan(plan.id))?.status).toBe('cancelled');
    expect((await svc.count(FPS[0]!, need, 'agent', undefined, plan.id)).verdict.ok).toBe(false);
  });

  it("an approval of the same request on its own never counts toward a plan's step (a plan is approved whole)", async () => {
    // bob approves the first step's request by itself (a Kubegate-Approval header): it counts for that request
    const { facts, one } = await holdOne({ id: 'req-2' });
    const single = await sign('bob', one);
    await svc.acceptWithRequest([single], FPS[0]!, 'agent', facts);
    expect((await svc.count(FPS[0]!, need, 'agent', undefined)).verdict.ok).toBe(true);
    // ...but not for the plan, whose approvers must have seen the plan
    expect((await svc.count(FPS[0]!, need, 'agent', undefined, plan.id)).verdict.ok).toBe(false);
  });

  it("a plan's token is refused as a request's approval (API or Kubegate-Approval header)", async () => {
    const now = Date.now();
    await store.createPlan({
      id: plan.id,
      title: 't',
      why: 'w',
      requester: 'agent',
      risk: 'MEDIUM',
      reasons: [],
      approvals_required: 1,
      override_required: false,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
      steps: [],
      checks: [],
      approvals: [],
    });
    await expect(svc.approve(await sign('alice', {}))).rejects.toThrow(/counts only when that plan runs/);
    const facts = { request_id: 'req-1', cluster: CLUSTER, action: 'patch', resource: 'x' };
    await expect(svc.acceptWithRequest([await sign('alice', {})], FPS[0]!, 'agent', facts)).rejects.toThrow(
      /counts only when that plan runs/,
    );
  });

  it('a request nobody decided in time expires, and its approvals with it', async () => {
    const old = Date.now() - 60_000;
    const p = heldRequest({ id: 'req-old', createdAt: old, updatedAt: old });
    await store.putPending(p);
    await store.putPending({ ...p, id: 'req-new', fingerprint: FPS[1]!, createdAt: Date.now() });
    expect(await svc.expire(30_000)).toBe(1);
    expect((await store.getPending('req-old'))?.status).toBe('expired');
    expect((await store.getPending('req-old'))?.message).toMatch(/run it again to ask again/);
    expect((await store.getPending('req-new'))?.status).toBe('pending');
    expect(await store.withdrawnAt(FPS[0]!)).toBeGreaterThan(0);
  });

  it('a request left running by a replica that stopped mid-run ends as failed after the same time', async () => {
    const old = Date.now() - 60_000;
    await store.putPending(
      heldRequest({ id: 'req-cut', status: 'approved', createdAt: old, updatedAt: old }),
    );
    await store.putPending(heldRequest({ id: 'req-running', fingerprint: FPS[1]!, status: 'approved' }));
    expect(await svc.expire(30_000)).toBe(1);
    expect(await store.getPending('req-cut')).toMatchObject({ status: 'failed', message: /interrupted/ });
    const records = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.request_id === 'req-cut')).toMatchObject([
      { event: 'failed', status: 'unknown', message: expect.stringMatching(/interrupted/) },
    ]);
    expect((await store.getPending('req-running'))?.status).toBe('approved');
  });
});

describe('an approval bound to the object version the approver saw', () => {
  const deployment = (rv: string, spec: unknown, status: unknown) => ({
    metadata: {
      name: 'web',
      uid: 'u1',
      resourceVersion: rv,
      generation: 2,
      managedFields: [{ manager: rv }],
    },
    spec,
    status,
  });
  const seen = deployment('10', { replicas: 1 }, { readyReplicas: 0 });
  const approval = {
    jti: 'j',
    fingerprint: 'f',
    approver: 'alice',
    kid: 'k',
    override: false,
    reason: '',
    exp: 9e9,
    resourceVersion: '10',
    objectHash: objectContentHash(seen)!,
  };
  const need = { approvals: 1, override_required: false };
  const count = (live: unknown) =>
    countApprovals([approval], need, {
      allowCritical: false,
      requester: 'agent',
      resourceVersion: (live as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
      objectHash: objectContentHash(live)!,
    }).ok;

  it('still applies when only the status moved (pods coming up), and never when the spec, labels or uid did', () => {
    expect(count(seen)).toBe(true);
    expect(count(deployment('11', { replicas: 1 }, { readyReplicas: 1 }))).toBe(true);
    expect(count(deployment('12', { replicas: 2 }, { readyReplicas: 1 }))).toBe(false);
    expect(
      count({
        ...deployment('13', { replicas: 1 }, {}),
        metadata: { name: 'web', uid: 'u2', resourceVersion: '13' },
      }),
    ).toBe(false);
    expect(
      count({ ...seen, metadata: { ...seen.metadata, resourceVersion: '14', labels: { a: 'b' } } }),
    ).toBe(false);
  });
});
