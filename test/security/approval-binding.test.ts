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
      extra: { planId: `batch-${randomUUID()}`, resourceVersions: ['', ''] },
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
    expect(again.json.message).toMatch(/replay|no longer held/);
    expect(await live(`/api/v1/namespaces/${n}/configmaps/plan-a`)).toBeNull();
    expect(forwardedSince(seq, `${n}/configmaps/plan-a`)).toEqual([]);
  });

  it('a plan delivered only by header approves each of its requests', async () => {
    await create('hdr-a');
    await create('hdr-b');
    const a = await waitPending(`${n}/configmaps/hdr-a`);
    const b = await waitPending(`${n}/configmaps/hdr-b`);
    const token = await signToken('bob', {
      fingerprints: [a.fingerprint, b.fingerprint],
      requestIds: [a.id, b.id],
      extra: { planId: `batch-${randomUUID()}`, resourceVersions: ['', ''] },
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

  it('two approvals for one request (the same approver twice, or two approvers) run it once', async () => {
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'twice-' } };
    const send = () =>
      gate(`/api/v1/namespaces/${n}/configmaps`, { method: 'POST', body, timeoutMs: HELD_MS });
    await send();
    const p = await waitPending(`${n}/configmaps`);
    for (const who of ['bob', 'bob', 'alice'] as const)
      expect(
        (await postApproval(await signToken(who, { fingerprints: [p.fingerprint], requestIds: [p.id] })))
          .status,
      ).toBe(201);
    expect((await send()).status).toBe(201);
    const seq = lastSeq();
    const again = await send();
    expect(again.timedOut || again.status === 403).toBe(true);
    expect(forwardedSince(seq, `${n}/configmaps`)).toEqual([]);
    const list = await direct(`/api/v1/namespaces/${n}/configmaps`);
    expect(
      list.json.items.filter((c: { metadata: { name: string } }) => c.metadata.name.startsWith('twice-')),
    ).toHaveLength(1);
  });

  it('approving a held "dry run" where the apiserver may not honour it does not approve the real request', async () => {
    const pod = `/api/v1/namespaces/${n}/pods/eph/ephemeralcontainers`;
    await adminCreate(`/api/v1/namespaces/${n}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'eph' },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    const patch = {
      method: 'PATCH',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox', targetContainerName: 'c' }] } },
    };
    await gate(`${pod}?dryRun=All`, { ...patch, timeoutMs: HELD_MS });
    const p = await waitPending(`${n}/pods/eph`);
    expect(p.detail.query.dryRun).toEqual(['All']);
    expect(
      (await postApproval(await signToken('bob', { fingerprints: [p.fingerprint], requestIds: [p.id] })))
        .status,
    ).toBe(201);
    const seq = lastSeq();
    const real = await gate(pod, { ...patch, timeoutMs: 20_000 });
    expect(real.status).toBe(403);
    expect(real.json.message).toMatch(/held for approval/);
    expect(forwardedSince(seq, `${n}/pods/eph`)).toEqual([]);
    expect((await live(`/api/v1/namespaces/${n}/pods/eph`)).spec.ephemeralContainers).toBeUndefined();
  });
});

describe('YAML bodies reach the apiserver as the object kubegate decided on', () => {
  let n: string;
  beforeAll(async () => {
    n = await ns('yamljson');
  });

  it('merge keys cannot hide privileged: true (the apiserver gets the JSON kubegate read)', async () => {
    const yaml = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: merged}',
      'spec:',
      '  hostNetwork: false',
      '  <<: {hostNetwork: true}',
      '  containers:',
      '  - name: c',
      '    image: nginx',
      '    securityContext: {privileged: false, <<: {privileged: true}}',
      '',
    ].join('\n');
    const r = await gate(`/api/v1/namespaces/${n}/pods?dryRun=All`, {
      method: 'POST',
      body: yaml,
      contentType: 'application/yaml',
    });
    expect(r.status, r.body).toBe(201);
    // what the apiserver made of it is what the policy saw
    expect(r.json.spec.hostNetwork).not.toBe(true);
    expect(r.json.spec.containers[0].securityContext.privileged).toBe(false);
  });

  it('YAML values JSON cannot carry exactly (binary, timestamps, sets, huge integers) are refused (400)', async () => {
    for (const value of ['!!binary U1lTX0FETUlO', '2001-12-14', '!!set {a, b}', '123456789012345678901']) {
      const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typed}\ndata: {k: v}\nx: ${value}\n`;
      const r = await gate(`/api/v1/namespaces/${n}/configmaps?dryRun=All`, {
        method: 'POST',
        body: yaml,
        contentType: 'application/yaml',
      });
      expect(r.status, value).toBe(400);
      expect(r.json.message).toMatch(/send JSON/);
    }
  });
});
