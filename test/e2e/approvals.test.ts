import { createHmac, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { base64url, importJWK, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  approveCli,
  auditRecords,
  devEnv,
  dir,
  freshNamespace,
  kubectl,
  namespaceWithDeployment,
  pending,
  recordsWhen,
  requestIdIn,
  waitForPending,
} from './helpers.js';

const admin = (args: string[]) => kubectl(args, { as: 'admin' });
const replicas = async (ns: string) =>
  (await admin(['get', 'deployment', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout;

const deployment = namespaceWithDeployment;

/** A held request's id: run the command, let it be refused after the hold, read the id from the Status. */
async function heldId(args: string[], as?: 'agent' | 'admin'): Promise<string> {
  const r = await kubectl(args, as ? { as } : {});
  expect(r.code).not.toBe(0);
  return requestIdIn(r.stderr);
}

function key(name: 'alice' | 'bob') {
  return JSON.parse(readFileSync(path.join(dir, 'keys', `${name}.jwk`), 'utf8')) as Record<string, string>;
}

async function show(id: string): Promise<{ fingerprint: string; detail: { resourceVersion?: string } }> {
  const r = await approveCli(['show', id, '-o', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Signs a token the way approve-cli does, with knobs to make it bad. */
async function token(opts: {
  fingerprints: string[];
  as?: 'alice' | 'bob';
  aud?: string;
  exp?: string | number;
  nbf?: string | number;
  kid?: string;
  override?: boolean;
  reason?: string;
  ttl?: number;
}) {
  const k = key(opts.as ?? 'alice');
  const jwt = new SignJWT({
    kubegate: {
      action: 'approve',
      fingerprints: opts.fingerprints,
      override: opts.override,
      reason: opts.reason,
    },
  })
    .setProtectedHeader({ alg: 'EdDSA', kid: opts.kid ?? k.kid })
    .setIssuer('approve-cli')
    .setAudience(opts.aud ?? devEnv().KUBEGATE_CLUSTER!)
    .setSubject(k.name!)
    .setIssuedAt()
    .setJti(crypto.randomUUID())
    .setExpirationTime(opts.exp ?? '5m');
  if (opts.nbf !== undefined) jwt.setNotBefore(opts.nbf);
  return jwt.sign(await importJWK(k, 'EdDSA'));
}

function postApproval(tok: string): Promise<{ status: number; body: { message?: string } }> {
  const env = devEnv();
  const url = new URL(`${env.KUBEGATE_URL}/kubegate/v1/approvals`);
  const payload = JSON.stringify({ token: tok });
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        ca: readFileSync(env.KUBEGATE_CA!),
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let b = '';
        res.on('data', (c) => {
          b += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b ? JSON.parse(b) : {} }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('approval gate: held requests, request-bound signed approvals, the two-person rule', () => {
  it('holds a scale, and when alice approves during the hold kubectl simply succeeds', async () => {
    const ns = await deployment('hold');
    const run = kubectl(['scale', 'deployment', 'web', '--replicas=3', '-n', ns]);
    const p = await waitForPending(`${ns}/deployments/web`);
    expect(p.id).toMatch(/^req-[A-Za-z0-9-]+$/);
    expect(p.risk).toBe('MEDIUM');
    const a = await approveCli(['approve', p.id]);
    expect(a.code, a.stderr).toBe(0);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/approved by alice/);
    expect(await replicas(ns)).toBe('3');
    const mine = (recs: Record<string, unknown>[]) => recs.filter((x) => x.request_id === p.id);
    const records = await recordsWhen((recs) => mine(recs).some((x) => x.event === 'executed'));
    const events = mine(records).map((x) => x.event);
    expect(events).toEqual(expect.arrayContaining(['held', 'approved', 'forwarded', 'executed']));
  });

  it('a create approved while kubectl waits: every record of it names the created object, as the held one did', async () => {
    const ns = await freshNamespace('parked-name');
    const run = kubectl(['create', 'configmap', 'named-cm', '--from-literal=k=v', '-n', ns]);
    const p = await waitForPending(`${ns}/configmaps/named-cm`);
    expect((await approveCli(['approve', p.id])).code).toBe(0);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const mine = (recs: Record<string, unknown>[]) => recs.filter((x) => x.request_id === p.id);
    const records = mine(await recordsWhen((recs) => mine(recs).some((x) => x.event === 'executed')));
    expect(records.map((x) => x.event)).toEqual(expect.arrayContaining(['held', 'forwarded', 'executed']));
    // the run after the wait (parked, then run again) names the object from its body, as the first pass did
    expect([...new Set(records.map((x) => x.resource))]).toEqual([`${ns}/configmaps/named-cm`]);
  });

  it('an approval for the object as it was does not apply to a parked change once the object changed', async () => {
    const ns = await freshNamespace('parked-stale');
    expect((await admin(['create', 'configmap', 'stale', '--from-literal=a=1', '-n', ns])).code).toBe(0);
    const run = kubectl([
      'patch',
      'configmap',
      'stale',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"data":{"b":"2"}}',
    ]);
    const p = await waitForPending(`${ns}/configmaps/stale`);
    // alice signs for the object she saw; then it changes before her approval arrives
    const printed = await approveCli(['approve', p.id, '--print']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(
      (await admin(['patch', 'configmap', 'stale', '-n', ns, '--type=merge', '-p', '{"data":{"a":"9"}}']))
        .code,
    ).toBe(0);
    expect((await postApproval(printed.stdout.trim())).status).toBe(201);
    // the parked request runs again on that news, on the object as it is now: not what she approved
    const r = await run;
    expect(r.code).not.toBe(0);
    const data = (await admin(['get', 'configmap', 'stale', '-n', ns, '-o', 'jsonpath={.data}'])).stdout;
    expect(JSON.parse(data)).toEqual({ a: '9' });
  });

  it('refuses after the hold with the id and how to approve; after approval the identical command succeeds once', async () => {
    const ns = await deployment('rerun');
    const first = await kubectl(['scale', 'deployment', 'web', '--replicas=4', '-n', ns]);
    expect(first.code).not.toBe(0);
    expect(first.stderr).toMatch(/MEDIUM risk/);
    expect(first.stderr).toMatch(/approve-cli approve req-/);
    const id = requestIdIn(first.stderr);
    expect(await replicas(ns)).toBe('1');
    expect((await approveCli(['approve', id])).code).toBe(0);
    const again = await kubectl(['scale', 'deployment', 'web', '--replicas=4', '-n', ns]);
    expect(again.code, again.stderr).toBe(0);
    expect(await replicas(ns)).toBe('4');
    // single use: the next identical run needs a new approval
    await admin(['scale', 'deployment', 'web', '--replicas=1', '-n', ns]);
    const third = await kubectl(['scale', 'deployment', 'web', '--replicas=4', '-n', ns]);
    expect(third.code).not.toBe(0);
    expect(await replicas(ns)).toBe('1');
  });

  it('answers a held request with the rejection, and refuses approval after reject', async () => {
    const ns = await deployment('reject');
    const run = kubectl(['scale', 'deployment', 'web', '--replicas=5', '-n', ns]);
    const p = await waitForPending(`${ns}/deployments/web`);
    expect((await approveCli(['reject', p.id, '--reason', 'not during the freeze window'], 'bob')).code).toBe(
      0,
    );
    const r = await run;
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/rejected by bob: not during the freeze window/);
    const late = await approveCli(['approve', p.id]);
    expect(late.code).not.toBe(0);
    expect(await replicas(ns)).toBe('1');
  });

  it('blocks a namespace delete; one approver (even twice) is not enough; override + alice + bob deletes it', async () => {
    const victim = await freshNamespace('crit');
    const first = await kubectl(['delete', 'namespace', victim, '--wait=false']);
    expect(first.code).not.toBe(0);
    expect(first.stderr).toMatch(/CRITICAL risk/);
    const id = requestIdIn(first.stderr);

    // alice alone, without override: still blocked
    expect((await approveCli(['approve', id])).code).toBe(0);
    expect((await kubectl(['delete', 'namespace', victim, '--wait=false'])).code).not.toBe(0);
    // alice again with override: one person is one approval
    expect((await approveCli(['approve', id, '--override', '--reason', 'decommission'])).code).toBe(0);
    const second = await kubectl(['delete', 'namespace', victim, '--wait=false']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/needs 2 approvals/);
    expect((await admin(['get', 'namespace', victim, '-o', 'jsonpath={.status.phase}'])).stdout).toBe(
      'Active',
    );

    expect((await approveCli(['approve', id], 'bob')).code).toBe(0);
    const done = await kubectl(['delete', 'namespace', victim, '--wait=false']);
    expect(done.code, done.stderr).toBe(0);
    const phase = (await admin(['get', 'namespace', victim, '-o', 'jsonpath={.status.phase}'])).stdout;
    expect(['Terminating', '']).toContain(phase);
    const fwd = auditRecords().find((x) => x.request_id === id && x.event === 'forwarded');
    expect(fwd?.approvers).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it('refuses bad approval tokens (header and API) and leaves the object unchanged', async () => {
    const ns = await deployment('attack');
    const args = ['scale', 'deployment', 'web', '--replicas=7', '-n', ns];
    const id = await heldId(args);
    const { fingerprint: fp } = await show(id);
    const other = await deployment('attack-other');
    const otherId = await heldId(['scale', 'deployment', 'web', '--replicas=7', '-n', other]);
    const { fingerprint: otherFp } = await show(otherId);

    const alice = key('alice');
    const header = base64url.encode(JSON.stringify({ alg: 'none', kid: alice.kid }));
    const claims = base64url.encode(
      JSON.stringify({
        iss: 'approve-cli',
        aud: devEnv().KUBEGATE_CLUSTER,
        sub: 'alice',
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 300,
        jti: 'x1',
        kubegate: { action: 'approve', fingerprints: [fp] },
      }),
    );
    const algNone = `${header}.${claims}.`;
    const hsHeader = base64url.encode(JSON.stringify({ alg: 'HS256', kid: alice.kid }));
    const hsInput = `${hsHeader}.${claims}`;
    const hs256 = `${hsInput}.${base64url.encode(
      createHmac('sha256', JSON.stringify({ kty: alice.kty, crv: alice.crv, x: alice.x }))
        .update(hsInput)
        .digest(),
    )}`;
    const wrongKeyJwk = { ...key('bob'), kid: alice.kid };
    const wrongKey = await new SignJWT({ kubegate: { action: 'approve', fingerprints: [fp] } })
      .setProtectedHeader({ alg: 'EdDSA', kid: alice.kid })
      .setIssuer('approve-cli')
      .setAudience(devEnv().KUBEGATE_CLUSTER!)
      .setSubject('alice')
      .setIssuedAt()
      .setJti(crypto.randomUUID())
      .setExpirationTime('5m')
      .sign(createPrivateKey({ key: wrongKeyJwk, format: 'jwk' }));

    const bad: [string, string][] = [
      ['alg none', algNone],
      ['HMAC with the public key', hs256],
      ['unknown kid', await token({ fingerprints: [fp], kid: 'mallory-123' })],
      ['wrong key', wrongKey],
      ['expired', await token({ fingerprints: [fp], exp: Math.floor(Date.now() / 1000) - 120 })],
      [
        'not yet valid',
        await token({ fingerprints: [fp], nbf: Math.floor(Date.now() / 1000) + 600, exp: '20m' }),
      ],
      ['wrong audience', await token({ fingerprints: [fp], aud: 'another-cluster' })],
      ['another request', await token({ fingerprints: [otherFp] })],
    ];
    for (const [what, tok] of bad) {
      const api = await postApproval(tok);
      if (what === 'another request') {
        // valid for the other request: approves that one, never this one
        expect(api.status, what).toBe(201);
      } else {
        expect(api.status, `${what}: ${JSON.stringify(api.body)}`).toBeGreaterThanOrEqual(400);
      }
    }
    // none of them counts: the re-run is still held, and nothing changed
    expect((await kubectl(args)).code).not.toBe(0);
    expect(await replicas(ns)).toBe('1');

    // replay: a good token works once; the same token again is refused
    const good = await token({ fingerprints: [fp] });
    expect((await postApproval(good)).status).toBe(201);
    const replay = await postApproval(good);
    expect(replay.status).toBe(409);
    expect(replay.body.message).toMatch(/replay/);

    // revoke withdraws the unused approval: the re-run is held again
    expect((await approveCli(['revoke', id], 'bob')).code).toBe(0);
    expect((await kubectl(args)).code).not.toBe(0);
    expect(await replicas(ns)).toBe('1');
    expect(auditRecords().some((r) => r.event === 'refused_action')).toBe(true);
  });

  it('never lets a requester approve their own request', async () => {
    const ns = await deployment('self');
    const env = devEnv();
    const r = await kubectl(
      [
        '--kubeconfig',
        path.join(dir, 'alice.kubeconfig'),
        'scale',
        'deployment',
        'web',
        '--replicas=2',
        '-n',
        ns,
      ],
      {},
    );
    // kubectl takes the last --kubeconfig: this request is alice's
    expect(r.code).not.toBe(0);
    const id = requestIdIn(r.stderr);
    expect((await pending()).find((p) => p.id === id)?.requester).toBe('alice');
    const self = await approveCli(['approve', id], 'alice');
    expect(self.code).not.toBe(0);
    expect(self.stderr).toMatch(/cannot approve|own request|requested/);
    // also refused at the API when the token is sent by hand
    const { fingerprint } = await show(id);
    const api = await postApproval(await token({ fingerprints: [fingerprint] }));
    expect(api.status).toBe(403);
    expect(await replicas(ns)).toBe('1');
    expect(env.KUBEGATE_URL).toBeTruthy();
  });

  it('refuses an approval for a pending id that does not exist', async () => {
    const r = await approveCli(['approve', 'req-20261125-deadbeef00']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no request|not found/i);
  });
});
