import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { approveCli } from '../e2e/helpers.js';
import {
  adminCreate,
  configMap,
  deployment,
  direct,
  forwardedSince,
  gate,
  HELD_MS,
  lastSeq,
  live,
  ns,
  postApproval,
  signToken,
  sleep,
  waitPending,
} from './helpers.js';

/**
 * One approval runs what the approver saw, once. Each case here was found by an independent
 * bypass run (session 2) and is kept as a regression test.
 */
describe('an approval runs exactly what was approved, once', () => {
  let n: string;

  beforeAll(async () => {
    n = await ns('bind');
    // a Service with no endpoints: proxy requests to it are decided and forwarded (the apiserver answers 503)
    await adminCreate(`/api/v1/namespaces/${n}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'backend' },
      spec: { ports: [{ name: 'http', port: 80 }], selector: { app: 'none' } },
    });
  });

  const create = (name: string, o: { headers?: Record<string, string>; timeoutMs?: number } = {}) =>
    gate(`/api/v1/namespaces/${n}/configmaps`, {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } },
      timeoutMs: HELD_MS,
      ...o,
    });

  it('a plan token given to the approvals API cannot run one of its requests again through the header', async () => {
    await create('plan-a');
    await create('plan-b');
    const a = await waitPending(`${n}/configmaps/plan-a`);
    const b = await waitPending(`${n}/configmaps/plan-b`);
    const token = await signToken('bob', {
      fingerprints: [a.fingerprint, b.fingerprint],
      requestIds: [a.id, b.id],
      extra: { planId: `plan-${randomUUID()}` },
    });
    expect((await postApproval(token)).status).toBe(201);
    expect((await create('plan-a')).status).toBe(201);
    expect((await create('plan-b')).status).toBe(201);
    // plan-a is gone again; the same token in the header must not be a third approval
    expect((await direct(`/api/v1/namespaces/${n}/configmaps/plan-a`, { method: 'DELETE' })).status).toBe(
      200,
    );
    const seq = lastSeq();
    const again = await create('plan-a', { headers: { 'kubegate-approval': token } });
    expect(again.status).toBe(403);
    expect(again.json.message).toMatch(/replay/);
    expect(await live(`/api/v1/namespaces/${n}/configmaps/plan-a`)).toBeNull();
    expect(forwardedSince(seq, `${n}/configmaps/plan-a`)).toEqual([]);
  });

  it('a plan delivered only by header approves each of its requests once', async () => {
    await create('hdr-a');
    await create('hdr-b');
    const a = await waitPending(`${n}/configmaps/hdr-a`);
    const b = await waitPending(`${n}/configmaps/hdr-b`);
    const token = await signToken('bob', {
      fingerprints: [a.fingerprint, b.fingerprint],
      requestIds: [a.id, b.id],
      extra: { planId: `plan-${randomUUID()}` },
    });
    const headers = { 'kubegate-approval': token };
    expect((await create('hdr-a', { headers })).status).toBe(201);
    expect((await create('hdr-b', { headers })).status).toBe(201);
  });

  const proxyPath = () => `/api/v1/namespaces/${n}/services/backend:http/proxy/items/42`;

  it('a proxy request with `Connection: upgrade` but no Upgrade is a plain request: its approval is spent', async () => {
    const headers = { connection: 'upgrade' };
    const first = await gate(proxyPath(), { method: 'DELETE', headers, timeoutMs: 20_000 });
    expect(first.status).toBe(403);
    const p = await waitPending(`${n}/services/backend:http`);
    expect(
      (await postApproval(await signToken('bob', { fingerprints: [p.fingerprint], requestIds: [p.id] })))
        .status,
    ).toBe(201);
    const seq = lastSeq();
    const ran = await gate(proxyPath(), { method: 'DELETE', headers });
    expect(ran.status).toBe(503); // forwarded: the apiserver found no endpoints
    expect(forwardedSince(seq, `${n}/services/backend`)).toHaveLength(1);
    // the approval was used: the same request is held again, never forwarded a second time
    const seq2 = lastSeq();
    const again = await gate(proxyPath(), { method: 'DELETE', headers, timeoutMs: 20_000 });
    expect(again.status).toBe(403);
    expect(again.json.message).toMatch(/held for approval/);
    expect(forwardedSince(seq2, `${n}/services/backend`)).toEqual([]);
  });

  it('an approved proxy GET cannot be sent as a DELETE (the method is part of the approval)', async () => {
    const path = `/api/v1/namespaces/${n}/services/backend:http/proxy/report?id=7`;
    expect((await gate(path, { timeoutMs: 20_000 })).status).toBe(403);
    const p = await waitPending(`${n}/services/backend:http`);
    expect(p.detail.proxyMethod).toBe('GET');
    expect(
      (await postApproval(await signToken('bob', { fingerprints: [p.fingerprint], requestIds: [p.id] })))
        .status,
    ).toBe(201);
    const seq = lastSeq();
    const del = await gate(path, { method: 'DELETE', timeoutMs: 20_000 });
    expect(del.status).toBe(403);
    expect(del.json.message).toMatch(/held for approval/);
    expect(forwardedSince(seq, `${n}/services/backend`)).toEqual([]);
    // the approved GET itself still runs
    expect((await gate(path)).status).toBe(503);
  });

  it('DeleteOptions in the query of a DELETE that has a body are refused (the apiserver would ignore them)', async () => {
    await deployment(n, 'orphan-me', 1);
    const path = `/apis/apps/v1/namespaces/${n}/deployments/orphan-me`;
    for (const q of ['propagationPolicy=Orphan', 'gracePeriodSeconds=0', 'orphanDependents=true']) {
      const r = await gate(`${path}?${q}`, { method: 'DELETE', body: {} });
      expect(r.status).toBe(400);
      expect(r.json.message).toMatch(/ignored by the API server when a DELETE has a body/);
    }
    expect(await live(path)).not.toBeNull();
  });

  it('rollback refuses a change that did not run (an approved create that met AlreadyExists)', async () => {
    await configMap(n, 'taken');
    await create('taken'); // held (the client gives up waiting)
    const p = await waitPending(`${n}/configmaps/taken`);
    expect(
      (await postApproval(await signToken('bob', { fingerprints: [p.fingerprint], requestIds: [p.id] })))
        .status,
    ).toBe(201);
    expect((await create('taken')).status).toBe(409); // the apiserver: AlreadyExists
    await sleep(300);
    const rb = await approveCli(['rollback', p.id], 'alice');
    expect(rb.code).not.toBe(0);
    expect(rb.stderr + rb.stdout).toMatch(/did not run successfully/);
    expect(await live(`/api/v1/namespaces/${n}/configmaps/taken`)).not.toBeNull();
  });
});
