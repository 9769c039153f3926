/**
 * One write path (issue 13): rollbacks and previews go through the same stages as any request
 * (decided, approved by someone else, written ahead, forwarded as someone, recorded); callers are
 * identified before a body byte is read; every forward carries kubegate's request id as Audit-ID.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import {
  approveCli,
  freshNamespace,
  kubectl,
  type PendingItem,
  requestIdIn,
  rolledOut,
  startExtraKubegate,
  waitForPending,
} from '../e2e/helpers.js';
import {
  auditRecords,
  devEnv,
  direct,
  gate,
  openTls,
  pendingList,
  postApproval,
  signToken,
  tokenOf,
  waitAudit,
} from './helpers.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });
const records = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

/** Runs an agent command and approves it (as alice) while it is held; returns the request id. */
async function approvedRun(
  args: string[],
  target: string,
  kubeconfig?: string,
  url?: string,
): Promise<string> {
  const run = kubectl(args, kubeconfig ? { kubeconfig } : {});
  const p = await waitPendingAt(target, url);
  const a = await approveCli(['approve', p.id], 'alice', url);
  expect(a.code, a.stderr).toBe(0);
  const r = await run;
  expect(r.code, r.stderr).toBe(0);
  return p.id;
}

async function waitPendingAt(target: string, url?: string): Promise<PendingItem> {
  if (!url) return waitForPending(target);
  for (let i = 0; i < 100; i++) {
    const r = await approveCli(['list', '-o', 'json'], 'alice', url);
    const items = JSON.parse(r.stdout || '[]') as PendingItem[] | { items: PendingItem[] };
    const hit = (Array.isArray(items) ? items : items.items).find(
      (p) => p.target === target && p.status === 'pending',
    );
    if (hit) return hit;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`no pending request for ${target} at ${url}`);
}

function getJson(url: string): Promise<any> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: readFileSync(devEnv().KUBEGATE_CA!) }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('a rollback is a request like any other', () => {
  it('(bypass round 18) a held rollback is not run by its asker sending the same bytes with an approval header', async () => {
    const ns = await freshNamespace('rbclient');
    expect((await admin(['create', 'configmap', 'cm', '--from-literal=k=v1', '-n', ns])).code).toBe(0);
    const id = await approvedRun(
      ['patch', 'configmap', 'cm', '-n', ns, '-p', '{"data":{"k":"v9"}}'],
      `${ns}/configmaps/cm`,
    );
    const rb = await approveCli(['rollback', id], 'alice');
    expect(rb.code, rb.stderr).toBe(0);
    const rollbackId = rb.stdout.trim();
    const shown = JSON.parse((await approveCli(['show', rollbackId, '-o', 'json'], 'bob')).stdout);
    const token = await signToken('bob', {
      fingerprints: [shown.fingerprint],
      requestIds: [rollbackId],
      extra: { withdrawals: [shown.withdrawn_at] },
    });
    const r = await gate(`/api/v1/namespaces/${ns}/configmaps/cm`, {
      method: 'PATCH',
      as: 'alice',
      body: shown.detail.body,
      contentType: shown.detail.contentType,
      headers: { 'kubegate-approval': token },
    });
    expect(r.status, r.body.slice(0, 300)).toBe(409);
    expect(r.json.message).toMatch(/is the rollback of/);
    expect((await admin(['get', 'configmap', 'cm', '-n', ns, '-o', 'jsonpath={.data.k}'])).stdout).toBe('v9');
    expect(JSON.parse((await approveCli(['show', rollbackId, '-o', 'json'])).stdout).status).toBe('pending');
  });

  it('an approved rollback of a change the policy now denies is refused, and its records match any other request', async () => {
    const bundle = mkdtempSync(path.join(os.tmpdir(), 'kg-bundle-'));
    execFileSync('bash', ['scripts/policy-build.sh', bundle]);
    const kg = await startExtraKubegate('rbdeny', {
      policy: { bundle, watch: true },
      execution: { hold_seconds: 10 },
    });
    cleanups.push(kg.stop);
    const ns = await freshNamespace('rbdeny');
    expect(
      (await admin(['create', 'configmap', 'settings', '--from-literal=mode=blue', '-n', ns])).code,
    ).toBe(0);
    const id = await approvedRun(
      ['patch', 'configmap', 'settings', '-n', ns, '-p', '{"data":{"mode":"green"}}'],
      `${ns}/configmaps/settings`,
      kg.kubeconfig,
      kg.url,
    );
    const rb = await approveCli(['rollback', id], 'alice', kg.url);
    expect(rb.code, rb.stderr).toBe(0);
    const rollbackId = rb.stdout.trim();

    // the policy changes while the rollback waits: alice may no longer change ConfigMaps
    const before = (await getJson(`${kg.url}/kubegate/readyz`)).policy;
    const src = mkdtempSync(path.join(os.tmpdir(), 'kg-policies-'));
    cpSync('policies', src, { recursive: true });
    writeFileSync(
      path.join(src, 'zz_test_deny.rego'),
      'package kubegate\n\ndeny contains "alice may not change configmaps" if {\n\tinput.user.username == "alice"\n\tinput.request.resource == "configmaps"\n}\n',
    );
    execFileSync('bash', ['scripts/policy-build.sh', bundle, src]);
    for (let i = 0; i < 50 && (await getJson(`${kg.url}/kubegate/readyz`)).policy === before; i++)
      await new Promise((r) => setTimeout(r, 200));
    expect((await getJson(`${kg.url}/kubegate/readyz`)).policy).not.toBe(before);

    // the preview already shows the refusal; --blind makes bob approve anyway, so the run itself is tested
    const ok = await approveCli(['approve', rollbackId, '--blind'], 'bob', kg.url);
    expect(ok.code).not.toBe(0);
    expect(ok.stderr).toMatch(/denied by policy: alice may not change configmaps/);
    expect(
      (await admin(['get', 'configmap', 'settings', '-n', ns, '-o', 'jsonpath={.data.mode}'])).stdout,
    ).toBe('green');
    const mine = records(kg.auditFile).filter((r) => r.request_id === rollbackId);
    expect(mine.some((r) => r.event === 'forwarded')).toBe(false);
    const blocked = mine.find((r) => r.event === 'blocked');
    const original = records(kg.auditFile).find((r) => r.request_id === id && r.event === 'forwarded');
    // the same fields as the client's own change had, plus which change it undoes
    for (const k of [
      'action',
      'resource',
      'user',
      'risk',
      'reasons',
      'policy',
      'fingerprint',
      'policy_input',
    ])
      expect(blocked, k).toHaveProperty(k);
    for (const k of Object.keys(original!).filter(
      (k) => !['body', 'approvers', 'status', 'dry_run'].includes(k),
    ))
      expect(blocked, k).toHaveProperty(k);
    expect(blocked).toMatchObject({ user: 'alice', resource: `${ns}/configmaps/settings`, rollback_of: id });
  });

  it('undoing a scale restores the replicas only: a later, separately approved image change stays', async () => {
    const ns = await freshNamespace('undo-fields');
    expect(
      (await admin(['create', 'deployment', 'web', '--image=nginx', '--replicas=1', '-n', ns])).code,
    ).toBe(0);
    const target = `${ns}/deployments/web`;
    await rolledOut(ns, 'web');
    const scaled = await approvedRun(['scale', 'deployment', 'web', '--replicas=3', '-n', ns], target);
    await rolledOut(ns, 'web');
    await approvedRun(['set', 'image', 'deployment/web', 'nginx=nginx:1.27', '-n', ns], target);
    await rolledOut(ns, 'web');
    const rb = await approveCli(['rollback', scaled]);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stderr).toMatch(/spec.replicas 3 -> 1/);
    const ok = await approveCli(['approve', rb.stdout.trim()], 'bob');
    expect(ok.code, ok.stderr).toBe(0);
    const spec = JSON.parse((await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'json'])).stdout).spec;
    expect(spec.replicas).toBe(1);
    expect(spec.template.spec.containers[0].image).toBe('nginx:1.27');
  });

  it('the rollback of a create never deletes a newer object that reused the name (uid precondition)', async () => {
    const ns = await freshNamespace('undo-uid');
    const id = await approvedRun(
      ['create', 'configmap', 'reused', '--from-literal=v=1', '-n', ns],
      `${ns}/configmaps/reused`,
    );
    const rb = await approveCli(['rollback', id]);
    expect(rb.code, rb.stderr).toBe(0);
    const rollbackId = rb.stdout.trim();
    // meanwhile the object is deleted and a newer one takes its name
    expect((await admin(['delete', 'configmap', 'reused', '-n', ns])).code).toBe(0);
    expect((await admin(['create', 'configmap', 'reused', '--from-literal=v=2', '-n', ns])).code).toBe(0);
    // approve-cli binds its approval to the object version it showed (that alone would stop it): an
    // approval without that binding (a plan's, or a token made by hand) must still not reach the newer object
    const held = (await pendingList()).find((p) => p.id === rollbackId);
    const token = await signToken('bob', { fingerprints: [held.fingerprint], requestIds: [rollbackId] });
    expect((await postApproval(token)).status).toBe(201);
    expect((await admin(['get', 'configmap', 'reused', '-n', ns, '-o', 'jsonpath={.data.v}'])).stdout).toBe(
      '2',
    );
    const failed = await waitAudit((r) => r.request_id === rollbackId && r.event === 'failed');
    expect(failed.http_status).toBe(409);
    // and a new rollback is refused before anything is sent
    const again = await approveCli(['rollback', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/re-created/);
  });

  it('a rollback runs upstream as the approver who asked for it (impersonated), with an Audit-ID', async () => {
    const ns = await freshNamespace('undo-as');
    expect((await admin(['create', 'configmap', 'c', '--from-literal=v=1', '-n', ns])).code).toBe(0);
    const id = await approvedRun(
      ['patch', 'configmap', 'c', '-n', ns, '-p', '{"data":{"v":"2"}}'],
      `${ns}/configmaps/c`,
    );
    const rb = await approveCli(['rollback', id]);
    expect(rb.code, rb.stderr).toBe(0);
    const rollbackId = rb.stdout.trim();
    expect((await approveCli(['approve', rollbackId], 'bob')).code).toBe(0);
    expect((await admin(['get', 'configmap', 'c', '-n', ns, '-o', 'jsonpath={.data.v}'])).stdout).toBe('1');
    const events = await apiserverEvents((e) => e.auditID === rollbackId && e.verb === 'patch');
    expect(events.length).toBeGreaterThan(0);
    expect(events[0].user.username).toBe('kubegate');
    expect(events[0].impersonatedUser.username).toBe('alice');
  });
});

/** The apiserver's own audit events (kubegate dev enables its audit log), polled briefly. */
async function apiserverEvents(match: (e: any) => boolean): Promise<any[]> {
  for (let i = 0; i < 25; i++) {
    const found = readFileSync(devEnv().KUBEGATE_APISERVER_AUDIT!, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter(match);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  return [];
}

describe('previews, identity first, Audit-ID', () => {
  it('approve-cli show leaves the preview dry run on record: who asked, which request', async () => {
    const ns = await freshNamespace('preview');
    expect((await admin(['create', 'configmap', 'p', '--from-literal=v=1', '-n', ns])).code).toBe(0);
    const run = kubectl(['patch', 'configmap', 'p', '-n', ns, '-p', '{"data":{"v":"2"}}']);
    const p = await waitForPending(`${ns}/configmaps/p`);
    const show = await approveCli(['show', p.id]);
    expect(show.code, show.stderr).toBe(0);
    const previews = auditRecords().filter((r) => r.preview_of === p.id);
    expect(previews.find((r) => r.event === 'forwarded')).toMatchObject({
      asked_by: 'alice',
      dry_run: true,
      origin: 'preview',
    });
    await waitAudit((r) => r.preview_of === p.id && r.event === 'executed');
    await approveCli(['reject', p.id, '--reason', 'test done']);
    expect((await run).code).not.toBe(0);
    expect((await admin(['get', 'configmap', 'p', '-n', ns, '-o', 'jsonpath={.data.v}'])).stdout).toBe('1');
  });

  it('an anonymous 3 MiB write is refused with 401 before its body is read, and counted', async () => {
    const s = await openTls();
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.write(
      `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nhost: kubegate\r\ncontent-type: application/json\r\ncontent-length: ${3 * 1024 * 1024}\r\n\r\n`,
    );
    s.write(Buffer.alloc(64 * 1024, 0x20));
    // the answer comes while almost all of the body is still unsent: kubegate never waited for it
    for (let i = 0; i < 50 && !got; i++) await new Promise((r) => setTimeout(r, 100));
    s.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 401/);
    expect(got).toMatch(/anonymous/);
    const metrics = await new Promise<string>((resolve) =>
      https.get(devEnv().KUBEGATE_METRICS_URL!, { ca: readFileSync(devEnv().KUBEGATE_CA!) }, (res) => {
        let b = '';
        res.on('data', (c) => {
          b += c;
        });
        res.on('end', () => resolve(b));
      }),
    );
    expect(
      Number(/kubegate_refused_callers_total\{[^}]*kind="anonymous"[^}]*\} (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThan(0);
  });

  it('every forwarded request carries kubegate request id as Audit-ID; a client Audit-ID is not passed on', async () => {
    const ns = await freshNamespace('auditid');
    expect((await admin(['create', 'configmap', 'a', '--from-literal=v=1', '-n', ns])).code).toBe(0);
    const id = await approvedRun(
      ['patch', 'configmap', 'a', '-n', ns, '-p', '{"data":{"v":"2"}}'],
      `${ns}/configmaps/a`,
    );
    const ours = await apiserverEvents((e) => e.auditID === id && e.verb === 'patch');
    expect(ours.length).toBeGreaterThan(0);
    // a LOW change (not held): its Warning names kubegate's id, which the apiserver logs, not the client's
    const mine = `client-chosen-${Date.now()}`;
    const r = await gate('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      headers: { 'audit-id': mine },
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: ns } },
      },
    });
    expect(r.status).toBe(201);
    const kubegateId = requestIdIn(String(r.headers.warning));
    expect(await apiserverEvents((e) => e.auditID === kubegateId)).not.toHaveLength(0);
    expect(await apiserverEvents((e) => e.auditID === mine)).toHaveLength(0);
  });
});

describe('bodies and reads in flight are bounded; reads on record when asked', () => {
  it('past the per-caller body budget a write gets 429; audit.reads metadata records each read', async () => {
    const kg = await startExtraKubegate('budget', {
      limits: { max_body_bytes_per_caller: 1024 * 1024 },
      audit: { reads: 'metadata' },
    });
    cleanups.push(kg.stop);
    const url = new URL(kg.url);
    const open = () =>
      new Promise<tls.TLSSocket>((resolve) => {
        const s = tls.connect(
          {
            host: url.hostname,
            port: Number(url.port),
            ca: readFileSync(devEnv().KUBEGATE_CA!),
            servername: 'localhost',
          },
          () => resolve(s),
        );
      });
    const head = `POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nhost: kubegate\r\nauthorization: Bearer ${tokenOf('agent')}\r\ncontent-type: application/json\r\ncontent-length: ${800 * 1024}\r\n\r\n`;
    const first = await open();
    first.write(head);
    first.write('{"apiVersion":"v1",');
    await new Promise((r) => setTimeout(r, 500)); // identified, its 800 KiB reserved, body still coming
    const second = await open();
    let got = '';
    second.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    second.write(head);
    for (let i = 0; i < 50 && !got; i++) await new Promise((r) => setTimeout(r, 100));
    first.destroy();
    second.destroy();
    expect(got).toMatch(/^HTTP\/1\.1 429/);
    expect(got).toMatch(/bytes per caller/);

    const read = await kubectl(['get', 'namespaces', 'default'], { kubeconfig: kg.kubeconfig });
    expect(read.code, read.stderr).toBe(0);
    // a read's record is group-committed after the answer, not waited for: poll for it briefly
    const readRecord = () =>
      records(kg.auditFile).find((r) => r.event === 'read' && r.action === 'get v1 namespaces default');
    await expect.poll(readRecord, { timeout: 5000 }).toBeDefined();
    const rec = readRecord();
    expect(rec).toMatchObject({ http_status: 200, resource: 'namespaces/default', risk: 'LOW' });
    expect(rec?.user).toMatch(/agent/);
  });

  // round 19 (LOW): one HTTP/2 connection's thousands of watches each took an upstream connection
  // of their own, with no bound short of both processes running out of file descriptors
  it('past the per-caller reads in flight (WebSocket watches too) a read gets a 429 Status saying why; others still read; an ended watch frees its place', async () => {
    const kg = await startExtraKubegate('reads', { limits: { max_reads_in_flight_per_caller: 3 } });
    cleanups.push(kg.stop);
    const url = new URL(kg.url);
    const ca = readFileSync(devEnv().KUBEGATE_CA!);
    const open = (path: string, who: 'agent' | 'admin') =>
      new Promise<{
        status: number;
        req: import('node:http').ClientRequest;
        res: import('node:http').IncomingMessage;
      }>((resolve) => {
        const req = https.get(
          {
            host: url.hostname,
            port: url.port,
            ca,
            agent: false,
            path,
            headers: { authorization: `Bearer ${tokenOf(who)}` },
          },
          (res) => resolve({ status: res.statusCode ?? 0, req, res }),
        );
        req.on('error', () => undefined);
      });
    // a WebSocket watch: its place is held until its socket closes, not only until the 101
    // (bypass round 20: such watches were bounded by nothing)
    const wsWatch = () =>
      new Promise<{ line: string; socket: tls.TLSSocket }>((resolve) => {
        const socket = tls.connect(
          {
            host: url.hostname,
            port: Number(url.port),
            ca,
            servername: 'localhost',
            ALPNProtocols: ['http/1.1'],
          },
          () =>
            socket.write(
              `GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nHost: localhost\r\n` +
                `Authorization: Bearer ${tokenOf('agent')}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
                `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://localhost\r\n\r\n`,
            ),
        );
        socket.once('data', (d: Buffer) =>
          resolve({ line: d.toString('latin1').split('\r\n')[0] ?? '', socket }),
        );
        socket.on('error', () => undefined);
      });
    const watches = [];
    for (let i = 0; i < 2; i++) {
      const w = await open('/api/v1/namespaces/default/configmaps?watch=1', 'agent');
      expect(w.status).toBe(200);
      watches.push(w.req);
    }
    const ws = await wsWatch();
    expect(ws.line).toBe('HTTP/1.1 101 Switching Protocols');
    // kubectl's discovery gets the 429 first, and client-go words that one itself
    const over = await kubectl(['get', 'namespaces', 'default'], { kubeconfig: kg.kubeconfig });
    expect(over.code).not.toBe(0);
    expect(over.stderr).toMatch(/TooManyRequests/);
    const raw = await open('/api/v1/namespaces/default', 'agent');
    expect(raw.status).toBe(429);
    const [body] = (await once(raw.res, 'data')) as [Buffer];
    expect(JSON.parse(body.toString())).toMatchObject({
      kind: 'Status',
      reason: 'TooManyRequests',
      message: expect.stringMatching(/too many reads in flight.*3 per caller/),
    });
    // another caller's reads are not held up by agent's
    const other = await open('/api/v1/namespaces/default', 'admin');
    other.req.destroy();
    expect(other.status).toBe(200);
    ws.socket.destroy();
    const again = () => kubectl(['get', 'namespaces', 'default'], { kubeconfig: kg.kubeconfig });
    await expect.poll(async () => (await again()).code, { timeout: 5000 }).toBe(0);
    for (const w of watches) w.destroy();
  });

  it('a held request answers with its id, the id in the audit log and as Audit-ID upstream', async () => {
    const ns = await freshNamespace('held-id');
    expect((await admin(['create', 'configmap', 'h', '--from-literal=v=1', '-n', ns])).code).toBe(0);
    const r = await kubectl(['patch', 'configmap', 'h', '-n', ns, '-p', '{"data":{"v":"2"}}'], {
      timeoutMs: 30_000,
    });
    expect(r.code).not.toBe(0);
    const id = requestIdIn(r.stderr);
    expect(auditRecords().some((x) => x.request_id === id && x.event === 'held')).toBe(true);
    // nothing reached the apiserver for it
    expect(
      await apiserverEvents(
        (e) => e.auditID === id && e.verb === 'patch' && !e.requestURI.includes('dryRun'),
      ),
    ).toHaveLength(0);
    await approveCli(['reject', id, '--reason', 'test done']);
    expect((await direct(`/api/v1/namespaces/${ns}/configmaps/h`)).json.data.v).toBe('1');
  });
});

describe('findings of the fifth independent bypass round', () => {
  it('Secret values reach no approver: not in the request view, not in the snapshot, not in show; the state file is private', async () => {
    const ns = await freshNamespace('leak');
    const value = `S3cr3t-${Date.now()}`;
    expect(
      (await admin(['create', 'secret', 'generic', 'db', `--from-literal=password=${value}`, '-n', ns])).code,
    ).toBe(0);
    const p = `/api/v1/namespaces/${ns}/secrets/db`;
    const patch = {
      method: 'PATCH',
      body: { metadata: { labels: { touch: 'me' } } },
      contentType: 'application/merge-patch+json',
    };
    expect((await gate(p, { ...patch, timeoutMs: 1500 })).timedOut || true).toBe(true);
    const held = (await pendingList()).filter((x) => x.target === `${ns}/secrets/db`).pop();
    for (const who of ['alice', 'bob'] as const)
      expect(
        (
          await postApproval(
            await signToken(who, {
              fingerprints: [held.fingerprint],
              requestIds: [held.id],
              override: true,
              reason: 'test',
            }),
          )
        ).status,
      ).toBe(201);
    expect((await gate(p, patch)).status).toBe(200);
    const read = await signToken('alice', { action: 'read', exp: 60 });
    const view = await gate(`/kubegate/v1/requests/${held.id}`, { as: null, token: read });
    expect(view.status).toBe(200);
    expect(view.body).not.toContain(Buffer.from(value).toString('base64'));
    expect(view.body).not.toContain(value);
    // a held change that sets a Secret value: approve-cli prints the key, never the value
    const run = gate(p, {
      method: 'PATCH',
      body: { stringData: { password: 'next-value-42' } },
      contentType: 'application/merge-patch+json',
      timeoutMs: 1500,
    });
    await run;
    const next = (await pendingList())
      .filter((x) => x.target === `${ns}/secrets/db` && x.id !== held.id)
      .pop();
    const show = await approveCli(['show', next.id]);
    expect(show.stdout).toMatch(/password/);
    expect(show.stdout).not.toMatch(/next-value-42/);
    const { statSync } = await import('node:fs');
    const state = path.join(path.dirname(path.dirname(devEnv().KUBEGATE_AUDIT!)), 'state');
    for (const f of ['kubegate.db', 'kubegate.db-wal'])
      expect(statSync(path.join(state, f)).mode & 0o077, f).toBe(0);
  });

  it('held requests keep bounded bytes per requester (the oldest large one is displaced); the list carries no bodies', async () => {
    const kg = await startExtraKubegate('heldbytes', {
      limits: { max_held_bytes_per_caller: 2 * 1024 * 1024 },
      execution: { hold_seconds: 1 },
    });
    cleanups.push(kg.stop);
    const ns = await freshNamespace('heldbytes');
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kg-big-')), 'v');
    writeFileSync(file, 'x'.repeat(900 * 1024));
    for (const name of ['big1', 'big2', 'big3']) {
      const r = await kubectl(['create', 'configmap', name, `--from-file=v=${file}`, '-n', ns], {
        kubeconfig: kg.kubeconfig,
      });
      expect(r.code).not.toBe(0); // held
    }
    const list = await approveCli(['list', '-o', 'json'], 'alice', kg.url);
    expect(list.stdout.length).toBeLessThan(100 * 1024);
    const items = JSON.parse(list.stdout) as PendingItem[];
    const mine = items.filter((p) => p.target.startsWith(`${ns}/configmaps/big`));
    // big1 was displaced (cancelled, with the reason), the two newer ones are still held
    const cancelled = records(kg.auditFile).find(
      (r) => r.event === 'cancelled' && r.resource === `${ns}/configmaps/big1`,
    );
    expect(cancelled?.message).toMatch(
      /displaced: held requests may keep at most 2097152 bytes per requester/,
    );
    expect(
      mine
        .filter((p) => p.status === 'pending')
        .map((p) => p.target)
        .sort(),
    ).toEqual([`${ns}/configmaps/big2`, `${ns}/configmaps/big3`]);
  });

  it('kubectl apply of a Secret: show prints neither its values nor the last-applied annotation that holds them', async () => {
    const ns = await freshNamespace('apply-secret');
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\n  namespace: ${ns}\nstringData:\n  password: PLAIN-${process.pid}-x\n`;
    const run = kubectl(['apply', '-f', '-'], { input: manifest, timeoutMs: 20_000 });
    const p = await waitForPending(`${ns}/secrets/applied`);
    const show = await approveCli(['show', p.id]);
    await approveCli(['reject', p.id, '--reason', 'seen']);
    await run;
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/password/);
    expect(show.stdout).not.toContain(`PLAIN-${process.pid}-x`);
    expect(show.stdout).not.toContain(Buffer.from(`PLAIN-${process.pid}-x`).toString('base64'));
  });

  it('a requester-chosen ?timeout= is not forwarded on a write: an approved change cannot run while recorded as failed', async () => {
    const ns = await freshNamespace('timeout');
    const path1 = `/api/v1/namespaces/${ns}/configmaps?timeout=1ms`;
    const create = {
      method: 'POST',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 't' }, data: { a: '1' } },
    };
    expect((await gate(path1, { ...create, timeoutMs: 1500 })).timedOut || true).toBe(true);
    const held = (await pendingList()).filter((x) => x.target === `${ns}/configmaps/t`).pop();
    expect(held.detail.query.timeout).toBeUndefined();
    const tok = await signToken('bob', { fingerprints: [held.fingerprint], requestIds: [held.id] });
    expect((await postApproval(tok)).status).toBe(201);
    const r = await gate(path1, create);
    expect(r.status).toBe(201);
    const executed = await waitAudit((x) => x.request_id === held.id && x.event === 'executed');
    expect(executed.http_status).toBe(201);
    const sent = await apiserverEvents((e) => e.auditID === held.id && e.verb === 'create');
    expect(sent.length, "the apiserver logged the create under kubegate's id").toBeGreaterThan(0);
    expect(sent[0].requestURI).not.toMatch(/[?&]timeout=/);
  });
});
