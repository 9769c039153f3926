// approve-cli against kubegate's real approval API (src/api/, the approval service, SQLite store, audit log):
// over plain http on loopback, and over https with KUBEGATE_CA.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../../../src/api/app.js';
import { Notifier } from '../../../src/approval/notifier.js';
import { ApprovalService } from '../../../src/approval/service.js';
import { runApproveCli } from '../../../src/approvecli/run.js';
import { AuditLog } from '../../../src/audit/log.js';
import { RequestAudit } from '../../../src/chain/audit.js';
import { Clusters } from '../../../src/clusters.js';
import { parseConfig } from '../../../src/config.js';
import { createMetrics } from '../../../src/metrics.js';
import { SqliteStore } from '../../../src/state/sqlite.js';
import { type ApproverJwks, generateApproverKey } from '../../../src/wire/approver-key.js';
import { fingerprint } from '../../../src/wire/fingerprint.js';
import type { PendingRequest } from '../../../src/wire/request-view.js';
import { fakeUpstream } from '../fake-cluster.js';
import { detail, patchPreview, sink, tempDir } from './helpers.js';

const CLUSTER = 'test-cluster';
const REQUESTER = 'system:serviceaccount:agents:clawd';

let dir: string;
let cleanup: () => Promise<void>;
let store: SqliteStore;
let audit: AuditLog;
let server: http.Server | https.Server | undefined;
let jwks: ApproverJwks;
const keyFiles: Record<string, string> = {};

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  jwks = { keys: [] };
  for (const name of ['alice', 'bob']) {
    const { privateJwk, publicJwk } = await generateApproverKey(name);
    keyFiles[name] = join(dir, `${name}.jwk`);
    writeFileSync(keyFiles[name], JSON.stringify(privateJwk), { mode: 0o600 });
    jwks.keys.push(publicJwk);
  }
  store = new SqliteStore(join(dir, 'state.db'));
  audit = await AuditLog.open({ path: join(dir, 'audit.jsonl'), logger: pino({ level: 'silent' }) });
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  await audit.close();
  await store.close();
  await cleanup();
});

function api() {
  const config = parseConfig(
    {
      tls: { cert: 'x', key: 'x' },
      policy: { bundle: 'x' },
      approvers: { jwks: 'x' },
      audit: { path: 'x' },
      cluster_name: CLUSTER,
    },
    dir,
  );
  const logger = pino({ level: 'silent' });
  const requests = new RequestAudit(audit, createMetrics({ defaultMetrics: false }), logger, {
    approvalDisabled: false,
    reads: 'none',
  });
  const approvals = new ApprovalService({
    config,
    store,
    notifier: new Notifier(),
    audit: requests,
    log: audit,
    jwks: () => jwks,
    logger,
  });
  return createApi({
    store,
    approvals,
    log: audit,
    audit: requests,
    logger,
    // approve fetches a preview first: the apiserver's dry run answers with the patched object
    // (rollbacks and the previews' own paths are end to end)
    handle: async () => ({ status: 200, body: patchPreview.object }),
    // one cluster, named after cluster_name (test-cluster)
    clusters: Clusters.single(config, fakeUpstream()),
    policyVersion: () => 'test',
    holdSeconds: 600,
    identify: async () => {
      throw new Error('no requester calls in these tests');
    },
    stepTimeoutMs: 1000,
  });
}

async function listen(s: http.Server | https.Server): Promise<number> {
  server = s;
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

async function hold(id: string, over: Parameters<typeof detail>[0] = {}): Promise<PendingRequest> {
  // held on the one cluster, which is named after cluster_name
  const d = detail({ cluster: CLUSTER, ...over });
  const p: PendingRequest = {
    id,
    fingerprint: fingerprint({ ...d, user: REQUESTER, body: d.body }),
    status: 'pending',
    requester: REQUESTER,
    risk: d.override_required ? 'CRITICAL' : 'HIGH',
    reasons: ['change in a production namespace'],
    target: `${d.namespace}/${d.resource}/${d.name}`,
    createdAt: Date.now() - 60_000,
    updatedAt: Date.now() - 60_000,
    detail: d,
  };
  await store.putPending(p);
  return p;
}

function cli(env: Record<string, string>) {
  return async (...argv: string[]) => {
    const stdout = sink();
    const stderr = sink();
    const code = await runApproveCli(argv, { stdout, stderr, env: { KUBEGATE_CLUSTER: CLUSTER, ...env } });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };
}

describe('approve-cli against the approval API over loopback http', () => {
  let as: (name: 'alice' | 'bob') => ReturnType<typeof cli>;

  beforeEach(async () => {
    const port = await listen(http.createServer(api()));
    as = (name) => cli({ KUBEGATE_URL: `http://127.0.0.1:${port}`, APPROVE_KEY: keyFiles[name]! });
  });

  it('list, show, approve: the token kubegate stores approves exactly the request shown', async () => {
    const p = await hold('req-1');
    await hold('req-2', { body: { spec: { replicas: 9 } } }); // same object: conflicts with req-1

    const list = await as('alice')('list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+AGE\s+REQUESTER/);
    expect(list.stdout).toMatch(
      /req-1\s+1m\s+system:serviceaccount:agents:clawd\s+HIGH\s+patch apps\/v1 deployments production\/api\s+pending\s+req-2/,
    );

    const show = await as('alice')('show', 'req-1');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('spec.replicas: 1 -> 3');
    expect(show.stdout).toContain('conflicts:   req-2');

    const approve = await as('alice')('approve', 'req-1');
    expect(approve.stderr).toContain('approving req-1: HIGH patch apps/v1 deployments production/api');
    expect(approve.stdout).toBe('approved req-1 (1 of 1 approvals; run the command again)\n');
    expect(approve.code).toBe(0);
    const stored = await store.approvalsFor(p.fingerprint, Date.now());
    expect(stored).toMatchObject([
      { approver: 'alice', requestId: 'req-1', resourceVersion: '4242', override: false },
    ]);
  });

  it('CRITICAL: two approvers, the second with an override; show counts them', async () => {
    const p = await hold('req-3', {
      override_required: true,
      approvals_required: 2,
      verb: 'delete',
      body: null,
    });
    expect((await as('alice')('approve', 'req-3')).stdout).toBe(
      'approved req-3 (1 of 2 approvals; needs 1 more from another approver and an approval with --override --reason)\n',
    );
    const bob = await as('bob')('approve', 'req-3', '--override', '--reason', 'decommissioning api');
    expect(bob.stdout).toBe('approved req-3 (2 of 2 approvals; run the command again)\n');
    const show = await as('alice')('show', 'req-3');
    expect(show.stdout).toContain(
      'approvals:   2 of 2 present (from different approvers); override REQUIRED (present)',
    );
    expect(show.stdout).toContain('bob OVERRIDE: decommissioning api');
    expect((await store.approvalsFor(p.fingerprint, Date.now())).map((a) => a.approver).sort()).toEqual([
      'alice',
      'bob',
    ]);
  });

  it('a plan approves several requests with one token', async () => {
    const a = await hold('req-4');
    const b = await hold('req-5', {
      name: 'web',
      path: '/apis/apps/v1/namespaces/production/deployments/web',
    });
    const r = await as('bob')('approve', 'req-4', 'req-5', '--plan');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^approved req-4 \(1 of 1 approvals; run the command again\) \[batch-\d{8}-[0-9a-f]{8}\]\napproved req-5/,
    );
    for (const x of [a, b])
      expect((await store.approvalsFor(x.fingerprint, Date.now()))[0]?.planId).toMatch(/^batch-/);
  });

  it('reject, revoke and freeze go through; kubegate refusals are printed as one line', async () => {
    await hold('req-6');
    await hold('req-7', { name: 'other', path: '/apis/apps/v1/namespaces/production/deployments/other' });
    expect((await as('alice')('approve', 'req-6')).code).toBe(0);
    expect((await as('bob')('revoke', 'req-6')).stdout).toBe('revoked 1 unused approval of req-6\n');
    expect((await as('bob')('reject', 'req-6', '--reason', 'not during the sale')).stdout).toBe(
      'rejected req-6: not during the sale\n',
    );
    expect((await store.getPending('req-6'))?.status).toBe('rejected');

    const again = await as('alice')('approve', 'req-6');
    expect(again).toMatchObject({
      code: 1,
      stderr: 'approve-cli: req-6 is rejected, not pending: nothing to approve\n',
    });
    const missing = await as('alice')('show', 'req-404');
    expect(missing).toMatchObject({
      code: 1,
      stderr: 'approve-cli: kubegate refused (404 NotFound): no request req-404\n',
    });

    expect((await as('alice')('freeze', 'on', '--reason', 'incident 7')).stdout).toMatch(
      /freeze ON: .* 1 held request cancelled/,
    );
    expect((await as('bob')('freeze', 'status')).stdout).toMatch(
      /^freeze: ON by alice since .* \(incident 7\)\n$/,
    );
    expect((await as('bob')('list')).stdout).toMatch(/^\*\*\* FROZEN/);
    expect((await as('bob')('freeze', 'off')).code).toBe(0);
    expect((await as('bob')('freeze', 'status')).stdout).toBe('freeze: off\n');
  });

  it('a request kubegate cannot preview is approved only --blind, and the audit log says blind', async () => {
    await hold('req-9', {
      verb: 'deletecollection',
      name: '',
      body: null,
      query: { labelSelector: ['app=api'] },
    });
    const show = await as('alice')('show', 'req-9');
    expect(show.stdout).toContain(
      '  - the result of the change (server-side dry run): not available: the API server offers no dry run for deletecollection here',
    );
    const refused = await as('alice')('approve', 'req-9');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^approve-cli: req-9 cannot be approved without --blind: /);
    const blind = await as('alice')('approve', 'req-9', '--blind');
    expect(blind.code, blind.stderr).toBe(0);
    const records = readFileSync(join(dir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.event === 'approved')).toMatchObject([{ approver: 'alice', blind: true }]);
  });

  it('a key kubegate does not know, or the wrong audience, is refused by kubegate', async () => {
    const { privateJwk } = await generateApproverKey('mallory');
    const mallory = join(dir, 'mallory.jwk');
    writeFileSync(mallory, JSON.stringify(privateJwk), { mode: 0o600 });
    const r = await as('alice')('list', '--key', mallory);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^approve-cli: kubegate refused \(401 Unauthorized\): unknown signing key "mallory-[0-9a-f]+"\n$/,
    );
    const aud = await as('alice')('list', '--gate', 'another-cluster');
    expect(aud.stderr).toMatch(
      /^approve-cli: kubegate refused \(401 Unauthorized\): .*for cluster "another-cluster", this kubegate is cluster "test-cluster" \(approve-cli --gate test-cluster/,
    );
  });
});

describe('approve-cli over https', () => {
  it('trusts kubegate through KUBEGATE_CA, and says what to do without it', async () => {
    const certs = join(dir, 'certs');
    execFileSync('bash', [join(import.meta.dirname, '../../../certs/make-dev-certs.sh'), certs], {
      stdio: 'ignore',
    });
    const { readFileSync } = await import('node:fs');
    const port = await listen(
      https.createServer(
        { cert: readFileSync(join(certs, 'serving.crt')), key: readFileSync(join(certs, 'serving.key')) },
        api(),
      ),
    );
    await hold('req-8');
    const url = `https://127.0.0.1:${port}`;
    const withCa = await cli({
      KUBEGATE_URL: url,
      KUBEGATE_CA: join(certs, 'ca.crt'),
      APPROVE_KEY: keyFiles.alice!,
    })('list');
    expect(withCa.stderr).toBe('');
    expect(withCa.stdout).toMatch(/req-8/);
    const without = await cli({ KUBEGATE_URL: url, APPROVE_KEY: keyFiles.alice! })('list');
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(
      /^approve-cli: cannot trust kubegate at https:\/\/127.0.0.1:\d+ \(\w+\): set KUBEGATE_CA/,
    );
  });

  it('says when kubegate is not there', async () => {
    const s = http.createServer();
    const port = await listen(s);
    await new Promise<void>((resolve) => s.close(() => resolve()));
    server = undefined;
    const r = await cli({ KUBEGATE_URL: `https://127.0.0.1:${port}`, APPROVE_KEY: keyFiles.alice! })('list');
    expect(r).toMatchObject({
      code: 1,
      stderr: `approve-cli: cannot reach kubegate at https://127.0.0.1:${port}: connection refused (is it running? check KUBEGATE_URL)\n`,
    });
  });
});
