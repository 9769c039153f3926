import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from '../../../src/dev/controlplane.js';
import { kubeCall } from '../../../src/kube/client.js';
import { KubernetesStore } from '../../../src/state/kubernetes.js';
import { pruneRules } from '../../../src/state/prune.js';
import { SqliteStore } from '../../../src/state/sqlite.js';
import type { StateStore, StoredApproval } from '../../../src/state/store.js';
import { loadUpstream, type Upstream } from '../../../src/upstream.js';
import type { PendingRequest, Snapshot } from '../../../src/wire/request-view.js';

/**
 * One behavioural contract, two stores: the embedded SQLite file and the
 * ConfigMaps of a real kube-apiserver. "Two instances" are two replicas
 * sharing one file or one namespace.
 */
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kg-state-'));
let cp: ControlPlane | undefined;
let upstream: Upstream | undefined;
let seq = 0;

beforeAll(async () => {
  cp = await startControlPlane(path.join(tmp, 'cluster'), { controllerManager: false });
  upstream = loadUpstream({ url: cp.url, caFile: cp.caFile });
}, 240_000);

afterAll(async () => {
  upstream?.agent.destroy();
  await cp?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

interface Backend {
  name: string;
  /** Returns a factory: every call opens another instance on the same shared state. */
  fresh(): () => Promise<StateStore>;
}

const backends: Backend[] = [
  {
    name: 'sqlite',
    fresh() {
      const file = path.join(tmp, `state-${++seq}.db`);
      return async () => new SqliteStore(file);
    },
  },
  {
    name: 'kubernetes',
    fresh() {
      const namespace = `kg-state-${++seq}`;
      return () =>
        KubernetesStore.open(upstream!, { namespace, authorization: `Bearer ${cp!.tokens.admin}` });
    },
  },
];

const exp = () => Math.floor(Date.now() / 1000) + 600;

function approval(jti: string, fingerprint: string, approver = 'alice', extra: Partial<StoredApproval> = {}) {
  return {
    jti,
    fingerprint,
    approver,
    kid: `${approver}-key`,
    override: false,
    reason: '',
    exp: exp(),
    ...extra,
  };
}

function pendingReq(id: string, fingerprint: string, createdAt = Date.now()): PendingRequest {
  return {
    id,
    fingerprint,
    status: 'pending',
    requester: 'agent',
    risk: 'MEDIUM',
    reasons: ['scaling a Deployment'],
    target: 'default/deployments/web',
    createdAt,
    updatedAt: createdAt,
    detail: {
      cluster: 'kubegate',
      verb: 'patch',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      subresource: 'scale',
      namespace: 'default',
      name: 'web',
      path: '/apis/apps/v1/namespaces/default/deployments/web/scale',
      query: {},
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 3 } },
      oldObject: null,
      override_required: false,
      approvals_required: 1,
      dry_run_first: false,
      policy: 'sha256:test',
    },
  };
}

const fp = (n: number | string) => `${'f'.repeat(56)}${String(n).padStart(8, '0')}`;

describe.each(backends)('$name state store', (backend) => {
  async function open2(): Promise<[StateStore, StateStore]> {
    const make = backend.fresh();
    return [await make(), await make()];
  }

  it('refuses a replayed token id, across approvals and other actions and across instances', async () => {
    const [a, b] = await open2();
    expect(await a.addApproval(approval('jti-1', fp(1)))).toBe(true);
    expect(await b.addApproval(approval('jti-1', fp(1)))).toBe(false);
    expect(await b.useJti('jti-1', exp())).toBe(false);
    expect(await a.useJti('jti-2', exp())).toBe(true);
    expect(await b.useJti('jti-2', exp())).toBe(false);
    expect(await a.addApproval(approval('jti-2', fp(1)))).toBe(false);
    // token ids that are not DNS names (a plan's "jti#0", upper case, long) work too
    const odd = `Plan/${'x'.repeat(300)}#0`;
    expect(await a.addApproval(approval(odd, fp(1)))).toBe(true);
    expect(await b.addApproval(approval(odd, fp(1)))).toBe(false);
    expect((await a.approvalsFor(fp(1), Date.now())).map((x) => x.jti).sort()).toEqual([odd, 'jti-1'].sort());
  });

  it('approvalsFor excludes used, revoked and expired approvals, and other fingerprints', async () => {
    const [s] = await open2();
    const now = Date.now();
    await s.addApproval(approval('live', fp(2)));
    await s.addApproval(approval('used', fp(2)));
    await s.addApproval(approval('revoked', fp(2), 'bob'));
    await s.addApproval(approval('expired', fp(2), 'bob', { exp: Math.floor(now / 1000) - 1 }));
    await s.addApproval(approval('used-at-add', fp(2), 'bob', { usedAt: now }));
    await s.addApproval(approval('other', fp(3)));
    expect(await s.consumeApprovals(['used'], now)).toBe(true);
    expect(await s.revokeApprovals({ jtis: ['revoked'] }, now)).toBe(1);
    const live = await s.approvalsFor(fp(2), now);
    expect(live.map((x) => x.jti)).toEqual(['live']);
    expect(live[0]).toMatchObject({
      fingerprint: fp(2),
      approver: 'alice',
      kid: 'alice-key',
      override: false,
    });
    expect(live[0]!.usedAt).toBeUndefined();
  });

  it('consumes a set of approvals exactly once under concurrency (10 callers, two instances)', async () => {
    const [a, b] = await open2();
    await a.addApproval(approval('c-1', fp(4)));
    await a.addApproval(approval('c-2', fp(4), 'bob'));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).consumeApprovals(['c-1', 'c-2'], Date.now())),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await a.approvalsFor(fp(4), Date.now())).toEqual([]);
    expect(await b.consumeApprovals(['c-1'], Date.now())).toBe(false);
  });

  it('is all or none: a failing member leaves the others unused', async () => {
    const [s] = await open2();
    const now = Date.now();
    await s.addApproval(approval('n-1', fp(5)));
    await s.addApproval(approval('n-2', fp(5), 'bob'));
    await s.revokeApprovals({ jtis: ['n-2'] }, now);
    expect(await s.consumeApprovals(['n-1', 'n-2'], now)).toBe(false);
    expect(await s.consumeApprovals(['n-1', 'missing'], now)).toBe(false);
    expect(await s.consumeApprovals(['n-1', 'n-1'], now)).toBe(false);
    expect((await s.approvalsFor(fp(5), now)).map((x) => x.jti)).toEqual(['n-1']);
    expect(await s.consumeApprovals(['n-1'], now)).toBe(true);
    expect(await s.consumeApprovals([], now)).toBe(true);
  });

  it('overlapping consumptions in parallel: one wins, the loser keeps its other approval', async () => {
    const [a, b] = await open2();
    for (const j of ['o-a', 'o-b', 'o-c']) await a.addApproval(approval(j, fp(6), j));
    const [r1, r2] = await Promise.all([
      a.consumeApprovals(['o-a', 'o-b'], Date.now()),
      b.consumeApprovals(['o-b', 'o-c'], Date.now()),
    ]);
    expect([r1, r2].filter(Boolean)).toHaveLength(1);
    const left = (await a.approvalsFor(fp(6), Date.now())).map((x) => x.jti);
    expect(left).toEqual(r1 ? ['o-c'] : ['o-a']);
  });

  it('a revoke racing a consumption: exactly one of them takes effect', async () => {
    const [a, b] = await open2();
    for (let i = 0; i < 10; i++) {
      await a.addApproval(approval(`r-${i}`, fp(7)));
      const [used, revoked] = await Promise.all([
        a.consumeApprovals([`r-${i}`], Date.now()),
        b.revokeApprovals({ fingerprint: fp(7) }, Date.now()),
      ]);
      expect(Number(used) + revoked).toBe(1);
      expect(await a.approvalsFor(fp(7), Date.now())).toEqual([]);
    }
  });

  it('releases consumed approvals back, and revokes by fingerprint, approver and jti', async () => {
    const [s] = await open2();
    const now = Date.now();
    await s.addApproval(approval('l-1', fp(8)));
    expect(await s.consumeApprovals(['l-1'], now)).toBe(true);
    await s.releaseApprovals(['l-1']);
    expect((await s.approvalsFor(fp(8), now)).map((x) => x.jti)).toEqual(['l-1']);
    expect(await s.consumeApprovals(['l-1'], now)).toBe(true);
    await s.addApproval(approval('v-1', fp(9), 'alice'));
    await s.addApproval(approval('v-2', fp(9), 'bob'));
    await s.addApproval(approval('v-3', fp(10), 'bob'));
    expect(await s.revokeApprovals({ jtis: [] }, now)).toBe(0);
    expect(await s.revokeApprovals({ approver: 'bob', fingerprint: fp(9) }, now)).toBe(1);
    expect(await s.revokeApprovals({ approver: 'bob' }, now)).toBe(1);
    expect(await s.revokeApprovals({ approver: 'bob' }, now)).toBe(0);
    expect(await s.revokeApprovals({ fingerprint: fp(9) }, now)).toBe(1);
    expect(await s.revokeApprovals({ jtis: ['l-1'] }, now)).toBe(0); // in use: not counted
    // (bypass round 16) ...but revoked: giving it back (nothing ran) does not revive it
    await s.releaseApprovals(['l-1']);
    expect(await s.approvalsFor(fp(8), now)).toEqual([]);
    // a released approval that had been revoked stays revoked
    await s.releaseApprovals(['v-1']);
    expect(await s.approvalsFor(fp(9), now)).toEqual([]);
  });

  it('transitionPending has one winner under concurrency (two instances)', async () => {
    const [a, b] = await open2();
    await a.putPending(pendingReq('req-20260101-aaaa', fp(11)));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? a : b).transitionPending('req-20260101-aaaa', ['pending'], 'approved', `by ${i}`),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const p = await b.getPending('req-20260101-aaaa');
    expect(p?.status).toBe('approved');
    expect(p?.message).toMatch(/^by \d$/);
    expect(await a.transitionPending('req-20260101-aaaa', ['pending'], 'rejected')).toBe(false);
    expect(await a.transitionPending('missing', ['pending'], 'rejected')).toBe(false);
    expect(await a.transitionPending('req-20260101-aaaa', ['approved'], 'executed', 'HTTP 200')).toBe(true);
  });

  it('lists, counts and finds pending requests by status and fingerprint', async () => {
    const [s] = await open2();
    expect(await s.countPending()).toBe(0);
    expect(await s.listPending()).toEqual([]);
    const t = Date.now();
    await s.putPending(pendingReq('req-1', fp(12), t + 2));
    await s.putPending(pendingReq('req-2', fp(12), t + 1));
    await s.putPending(pendingReq('Req_3', fp(13), t)); // not a DNS name
    await s.putPending({ ...pendingReq('req-4', fp(12), t + 3), status: 'executed' });
    expect(await s.countPending()).toBe(3);
    expect((await s.listPending()).map((p) => p.id)).toEqual(['Req_3', 'req-2', 'req-1']);
    expect((await s.listPending(['executed'])).map((p) => p.id)).toEqual(['req-4']);
    expect((await s.findPendingByFingerprint(fp(12)))?.id).toBe('req-1');
    expect((await s.getPending('Req_3'))?.fingerprint).toBe(fp(13));
    await s.transitionPending('req-1', ['pending'], 'approved');
    expect(await s.countPending()).toBe(2);
    expect((await s.findPendingByFingerprint(fp(12)))?.id).toBe('req-1');
    await s.transitionPending('req-1', ['approved'], 'executed');
    expect((await s.findPendingByFingerprint(fp(12)))?.id).toBe('req-2');
    expect(await s.findPendingByFingerprint(fp(99))).toBeUndefined();
    // putPending replaces
    await s.putPending({ ...pendingReq('req-2', fp(12), t + 1), status: 'cancelled', message: 'gone' });
    expect((await s.getPending('req-2'))?.message).toBe('gone');
    expect(await s.countPending()).toBe(1);
  });

  it('shares the freeze switch between instances', async () => {
    const [a, b] = await open2();
    expect(await b.getFreeze()).toEqual({ on: false });
    await a.setFreeze({ on: true, by: 'alice', at: 1, reason: 'incident' });
    expect(await b.getFreeze()).toEqual({ on: true, by: 'alice', at: 1, reason: 'incident' });
    await b.setFreeze({ on: false, by: 'bob', at: 2 });
    expect(await a.getFreeze()).toEqual({ on: false, by: 'bob', at: 2 });
  });

  it('creates plans once per id, and updates them by compare-and-swap with one winner (two instances)', async () => {
    const [a, b] = await open2();
    const plan = {
      id: 'plan-20261202-001',
      title: 't',
      why: 'w',
      requester: 'agent',
      risk: 'MEDIUM',
      reasons: [],
      approvals_required: 1,
      override_required: false,
      status: 'approved' as const,
      createdAt: 1,
      updatedAt: 1,
      steps: [],
      checks: [],
      approvals: [],
    };
    expect(await a.createPlan(plan)).toBe(true);
    expect(await b.createPlan({ ...plan, title: 'other' })).toBe(false);
    expect((await b.getPlan(plan.id))?.title).toBe('t');
    // five runs started at once from both instances: exactly one moves it to running
    const wins = await Promise.all(
      [a, b, a, b, a].map(async (s) => {
        let won = false;
        await s.updatePlan(plan.id, (p) => {
          won = p.status === 'approved'; // reset on every attempt: a lost swap is retried
          return won ? { ...p, status: 'running', updatedAt: p.updatedAt + 1 } : undefined;
        });
        return won;
      }),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    expect((await a.getPlan(plan.id))?.status).toBe('running');
    expect((await b.listPlans()).map((p) => p.id)).toEqual([plan.id]);
    expect(await a.updatePlan('plan-20261202-999', (p) => p)).toBeUndefined();
  });

  it('records dry runs', async () => {
    const [a, b] = await open2();
    expect(await a.hasDryRun(fp(14))).toBe(false);
    await a.recordDryRun(fp(14), 1);
    await a.recordDryRun(fp(14), 2);
    expect(await b.hasDryRun(fp(14))).toBe(true);
  });

  it('round-trips snapshots, small and about a mebibyte', async () => {
    const [a, b] = await open2();
    const pending = pendingReq('req-snap', fp(15));
    const small: Snapshot = {
      requestId: 'req-snap',
      target: 'default/configmaps/c',
      before: { kind: 'ConfigMap', data: { a: 'é ✓' } },
      detail: pending.detail,
      createdAt: 5,
    };
    await a.putSnapshot(small);
    expect(await b.getSnapshot('req-snap')).toEqual(small);
    expect(await b.getSnapshot('req-none')).toBeUndefined();
    // ~1 MiB of JSON (a big ConfigMap's data) survives, replacing the small one
    const data = Object.fromEntries(
      Array.from({ length: 512 }, (_, i) => [`k${i}`, `${i}`.repeat(2).padEnd(2000, 'abcdef0123')]),
    );
    const big: Snapshot = { ...small, before: { kind: 'ConfigMap', data }, createdAt: 6 };
    expect(JSON.stringify(big).length).toBeGreaterThan(1_000_000);
    await a.putSnapshot(big);
    expect(await b.getSnapshot('req-snap')).toEqual(big);
    // and a mebibyte of incompressible data (a binary ConfigMap / Secret-like payload)
    const noisy: Snapshot = {
      ...small,
      before: { kind: 'ConfigMap', binaryData: { blob: randomBytes(740_000).toString('base64') } },
    };
    expect(JSON.stringify(noisy).length).toBeGreaterThan(980_000);
    await b.putSnapshot(noisy);
    expect(await a.getSnapshot('req-snap')).toEqual(noisy);
  });

  it('prunes what can no longer matter and keeps everything else (a replay stays refused)', async () => {
    const [a, b] = await open2();
    const now = Date.now();
    const nowSec = Math.floor(now / 1000);
    const DAY = 86_400_000;
    // old: a token that expired two hours ago, a request decided 40 days ago, its snapshot and dry run
    await a.addApproval(approval('old-approval', fp(20), 'alice', { exp: nowSec - 7200 }));
    await a.useJti('old-action', nowSec - 7200);
    await a.markWithdrawn(fp(21), now - 3 * DAY);
    await a.putPending({ ...pendingReq('req-old', fp(22), now - 40 * DAY), status: 'executed' });
    await a.recordDryRun(fp(23), now - 40 * DAY);
    await a.putSnapshot({
      requestId: 'req-old',
      target: 't',
      before: null,
      detail: pendingReq('x', fp(22)).detail,
      createdAt: now - 40 * DAY,
    });
    // current: a live approval, a token id whose token is still valid, a fresh withdrawal and request
    await a.addApproval(approval('live-approval', fp(24)));
    await a.useJti('live-action', exp());
    await a.markWithdrawn(fp(25), now);
    await a.putPending(pendingReq('req-new', fp(26), now));
    await a.recordDryRun(fp(27), now);
    await a.putSnapshot({
      requestId: 'req-new',
      target: 't',
      before: null,
      detail: pendingReq('y', fp(26)).detail,
      createdAt: now,
    });
    await a.setFreeze({ on: true, by: 'alice', at: now - 400 * DAY });

    const rules = pruneRules(now, 900, 30);
    // six records (SQLite counts the approval's row and its token id's row separately)
    expect(await b.prune(rules)).toBeGreaterThanOrEqual(6);
    expect(await b.prune(rules)).toBe(0); // nothing twice

    expect(await a.getPending('req-old')).toBeUndefined();
    expect(await a.getSnapshot('req-old')).toBeUndefined();
    expect(await a.hasDryRun(fp(23))).toBe(false);
    expect(await a.withdrawnAt(fp(21))).toBe(0);
    // the expired token's id is forgotten (verification refuses an expired token before any lookup)
    expect(await a.useJti('old-action', nowSec - 7200)).toBe(true);
    expect(await a.getPending('req-new')).toBeDefined();
    expect(await a.getSnapshot('req-new')).toBeDefined();
    expect(await a.hasDryRun(fp(27))).toBe(true);
    expect(await a.withdrawnAt(fp(25))).toBe(now);
    expect((await a.approvalsFor(fp(24), now)).map((x) => x.jti)).toEqual(['live-approval']);
    expect((await a.getFreeze()).on).toBe(true);
    // token ids still inside their lifetime stay burnt
    expect(await b.useJti('live-action', exp())).toBe(false);
    expect(await b.addApproval(approval('live-approval', fp(24)))).toBe(false);
  });
});

describe('sqlite state store specifics', () => {
  it('keeps the pending count by trigger (replace, transitions, prune, other instances) and recounts at open', async () => {
    const file = path.join(tmp, `state-${++seq}.db`);
    const [a, b] = [new SqliteStore(file), new SqliteStore(file)];
    const t = Date.now();
    for (let i = 0; i < 5; i++)
      await a.putPending({ ...pendingReq(`req-c${i}`, fp(40 + i), t), updatedAt: t - i });
    await b.putPending({ ...pendingReq('req-c0', fp(40), t), updatedAt: t }); // replaces: still one
    await b.transitionPending('req-c1', ['pending'], 'rejected');
    expect([await a.countPending(), await b.countPending()]).toEqual([4, 4]);
    // prune deletes the pending ones last changed before t - 3 (req-c4 only)
    await a.prune({ tokensExpiredBefore: 0, tokenWindowBefore: 0, recordsBefore: t - 3 });
    expect(await b.countPending()).toBe(3);
    // a count left wrong (say by an older kubegate on the same file) is right again after a restart
    new Database(file).prepare("UPDATE counts SET n = 99 WHERE name = 'pending'").run();
    expect(await new SqliteStore(file).countPending()).toBe(3);
  });
});

describe('pruneRules', () => {
  it('never drops token records before the token lifetime plus a margin has passed', () => {
    const now = 1_000_000_000_000;
    const r = pruneRules(now, 86_400, 1);
    expect(r.tokensExpiredBefore).toBe(now - 3_600_000);
    expect(r.tokenWindowBefore).toBe(now - 86_400_000 - 3_600_000);
    // retention of 1 day is stretched to the token window: a record outlives every token about it
    expect(r.recordsBefore).toBe(r.tokenWindowBefore);
    expect(pruneRules(now, 900, 30).recordsBefore).toBe(now - 30 * 86_400_000);
  });
});

describe('kubernetes state store specifics', () => {
  const auth = () => `Bearer ${cp!.tokens.admin}`;

  it('stores entities as labelled ConfigMaps in its namespace, which open() creates', async () => {
    const namespace = `kg-state-${++seq}`;
    const s = await KubernetesStore.open(upstream!, { namespace, authorization: auth });
    await s.addApproval(approval('lbl-1', fp(20)));
    await s.useJti('lbl-2', exp());
    await s.putPending(pendingReq('req-lbl', fp(20)));
    await s.setFreeze({ on: false, by: 'x', at: 1 });
    await s.recordDryRun(fp(20), 1);
    await s.putSnapshot({
      requestId: 'req-lbl',
      target: 't',
      before: null,
      detail: pendingReq('x', fp(1)).detail,
      createdAt: 1,
    });
    const r = await kubeCall<{ items: { metadata: { name: string; labels: Record<string, string> } }[] }>(
      upstream!,
      {
        path: `/api/v1/namespaces/${namespace}/configmaps?labelSelector=app.kubernetes.io/managed-by=kubegate`,
        authorization: auth(),
      },
    );
    const kinds = r.body.items.map((i) => i.metadata.labels['kubegate.dev/kind']).sort();
    expect(kinds).toEqual(['approval', 'dryrun', 'freeze', 'jti', 'pending', 'snapshot']);
    for (const i of r.body.items) expect(i.metadata.name.length).toBeLessThanOrEqual(253);
    expect(r.body.items.map((i) => i.metadata.name)).toContain('kg-pending-req-lbl');
  });

  it('fails clearly when its credentials may not use the namespace', async () => {
    await expect(
      KubernetesStore.open(upstream!, {
        namespace: `kg-state-${++seq}`,
        authorization: `Bearer ${cp!.tokens.agent}`,
      }),
    ).rejects.toThrow(/kg-state-\d+/);
    await expect(
      KubernetesStore.open(upstream!, { namespace: 'Not_A_Namespace', authorization: auth() }),
    ).rejects.toThrow(/invalid namespace/);
  });

  it('takes over an approval claimed by a consumption that a dead replica abandoned', async () => {
    const namespace = `kg-state-${++seq}`;
    const s = await KubernetesStore.open(upstream!, { namespace, authorization: auth });
    await s.addApproval(approval('dead-1', fp(21)));
    const base = `/api/v1/namespaces/${namespace}/configmaps`;
    const dead = 'kg-consume.dead';
    const doc = { state: 'pending', jtis: ['dead-1'], at: 1, createdAt: Date.now() - 60_000 };
    const made = await kubeCall(upstream!, {
      method: 'POST',
      path: base,
      authorization: auth(),
      body: {
        metadata: {
          name: dead,
          labels: { 'app.kubernetes.io/managed-by': 'kubegate', 'kubegate.dev/kind': 'consumption' },
        },
        data: { doc: JSON.stringify(doc) },
      },
    });
    expect(made.status).toBe(201);
    const list = await kubeCall<{ items: { metadata: { name: string } }[] }>(upstream!, {
      path: `${base}?labelSelector=kubegate.dev/kind=approval`,
      authorization: auth(),
    });
    const name = list.body.items[0]!.metadata.name;
    const patched = await kubeCall(upstream!, {
      method: 'PATCH',
      path: `${base}/${name}`,
      authorization: auth(),
      contentType: 'application/merge-patch+json',
      body: { data: { claim: dead } },
    });
    expect(patched.status).toBe(200);
    // an in-flight (here: abandoned) claim still reads as live, and the next consumer breaks it
    expect((await s.approvalsFor(fp(21), Date.now())).map((a) => a.jti)).toEqual(['dead-1']);
    expect(await s.consumeApprovals(['dead-1'], Date.now())).toBe(true);
    expect(await s.approvalsFor(fp(21), Date.now())).toEqual([]);
    const after = await kubeCall<{ data: { doc: string } }>(upstream!, {
      path: `${base}/${dead}`,
      authorization: auth(),
    });
    expect(JSON.parse(after.body.data.doc).state).toBe('aborted');
  });
});
