// Held requests learn of approvals from ONE store-wide change feed, not one poll each: with the
// Kubernetes store and 1 000 held requests, kubegate makes at most 2 list/watch calls a second,
// and an approval stored by another replica still releases its request.

import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approve } from '../../../src/chain/approve.js';
import { newContext, type With } from '../../../src/chain/context.js';
import { type ControlPlane, startControlPlane } from '../../../src/dev/controlplane.js';
import { parseRequest } from '../../../src/kube/request.js';
import { KubernetesStore } from '../../../src/state/kubernetes.js';
import { SqliteStore } from '../../../src/state/sqlite.js';
import type { StateStore } from '../../../src/state/store.js';
import { loadUpstream, type Upstream } from '../../../src/upstream.js';
import { testCluster } from '../fake-cluster.js';
import { approvalGate } from '../fake-gate.js';

const HELD = 1000;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'kg-held-news-'));
let cp: ControlPlane | undefined;
let upstream: Upstream | undefined;

/** Every list (GET of a collection) and watch kubegate sends to the apiserver, by time. */
const storeReads: { at: number; watch: boolean }[] = [];
const realRequest = https.request;

beforeAll(async () => {
  cp = await startControlPlane(path.join(tmp, 'cluster'), { controllerManager: false });
  upstream = loadUpstream({ url: cp.url, caFile: cp.caFile });
  (https as { request: typeof https.request }).request = ((...args: Parameters<typeof https.request>) => {
    const o = args[0] as https.RequestOptions;
    const p = String(o.path ?? '');
    if ((o.method ?? 'GET') === 'GET' && /\/configmaps\?/.test(p))
      storeReads.push({ at: Date.now(), watch: /[?&]watch=1/.test(p) });
    return realRequest(...args);
  }) as typeof https.request;
}, 240_000);

afterAll(async () => {
  (https as { request: typeof https.request }).request = realRequest;
  upstream?.agent.destroy();
  await cp?.stop();
  rmSync(tmp, { recursive: true, force: true });
}, 60_000);

async function gate(store: StateStore, dir: string) {
  const { config, approvals, audit, metrics, log } = await approvalGate(store, dir);
  return { deps: { config, approvals, store, audit, metrics }, log, approvals };
}

/** A decided MEDIUM create of ConfigMap `name`, held up to `holdMs`. */
function decided(name: string, signal: AbortSignal, holdMs: number) {
  const kr = parseRequest({
    method: 'POST',
    url: '/api/v1/namespaces/default/configmaps',
    headers: { 'content-type': 'application/json' },
    rawHeaders: [],
  });
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } };
  const ctx = newContext({ origin: 'client', cluster: testCluster(), kr, headers: {}, signal, holdMs });
  return Object.assign(ctx, {
    caller: { user: { username: 'agent', uid: '', groups: [], extra: {} }, credentials: {} },
    body: { object, forward: Buffer.from(JSON.stringify(object)), fingerprintBody: object },
    decided: {
      fingerprint: `sha256:held-${name}`,
      decision: {
        risk: 'MEDIUM' as const,
        reasons: ['test'],
        approvals: 1,
        override_required: false,
        dry_run_first: false,
        deny: [],
        approvals_from: [],
        audit_findings: [],
        policy: 'test',
      },
      live: null,
      summary: 'MEDIUM risk (test)',
    },
  }) as With<'caller' | 'body' | 'decided'>;
}

const approval = (fingerprint: string, approver: string) => ({
  jti: `jti-${fingerprint}-${approver}`,
  fingerprint,
  approver,
  kid: 'k',
  override: false,
  reason: '',
  exp: Math.floor(Date.now() / 1000) + 600,
});

describe('held requests and the store', () => {
  it(`kubernetes store: ${HELD} held requests cost ≤ 2 list/watch calls a second; another replica's approval releases one`, async () => {
    const opts = { namespace: 'kg-held-news', authorization: `Bearer ${cp!.tokens.admin}` };
    const store = await KubernetesStore.open(upstream!, opts);
    const other = await KubernetesStore.open(upstream!, opts);
    const g = await gate(store, tmp);
    const abort = new AbortController();
    setMaxListeners(0, abort.signal); // one listener per held request
    const outcomes: Promise<unknown>[] = [];
    for (let i = 0; i < HELD; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) =>
        approve(decided(`k-${i + j}`, abort.signal, 120_000), g.deps).then(
          () => 'approved',
          (err: Error) => err.message,
        ),
      );
      outcomes.push(...batch);
      // wait until this batch is held (pending in the store) before sending the next
      while ((await store.countPending()) < i + 50) await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 2000)); // the ramp's own reads settle
    const from = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const inWindow = storeReads.filter((c) => c.at >= from).length;
    expect(inWindow).toBeLessThanOrEqual(2 * 10);

    // another replica stores an approval: the one held request it is for runs, the rest stay held
    expect(await other.addApproval(approval('sha256:held-k-7', 'alice'))).toBe(true);
    await expect(outcomes[7]).resolves.toBe('approved');
    abort.abort(new Error('test over'));
    const rest = await Promise.all(outcomes);
    expect(rest.filter((r) => r === 'approved')).toHaveLength(1);
    expect(rest.filter((r) => /went away/.test(String(r)))).toHaveLength(HELD - 1);
    g.approvals.close();
    await g.log.close();
    await store.close();
    await other.close();
  }, 300_000);

  it('sqlite store: an approval written by another process sharing the file releases the held request', async () => {
    const file = path.join(tmp, 'state.db');
    const store = new SqliteStore(file);
    const other = new SqliteStore(file);
    const g = await gate(store, tmp);
    const abort = new AbortController();
    const held = approve(decided('s-1', abort.signal, 60_000), g.deps);
    while ((await store.countPending()) < 1) await new Promise((r) => setTimeout(r, 20));
    await other.addApproval(approval('sha256:held-s-1', 'alice'));
    const started = Date.now();
    await expect(held).resolves.toHaveProperty('approved.approvers', ['alice']);
    expect(Date.now() - started).toBeLessThan(5000);
    g.approvals.close();
    await g.log.close();
    await store.close();
    await other.close();
  }, 60_000);
});
