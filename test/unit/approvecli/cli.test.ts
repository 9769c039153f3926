// runApproveCli with a fake kubegate: the fingerprint check, the errors an approver sees, keygen.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApproveCli } from '../../../src/approvecli/run.js';
import type { HttpResponse } from '../../../src/approvecli/transport.js';
import { generateApproverKey } from '../../../src/wire/approver-key.js';
import { dryRunRoute, fakeTransport, NOW, patchPreview, sink, tempDir, view } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let keyFile: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  keyFile = join(dir, 'alice.jwk');
  const { privateJwk } = await generateApproverKey('alice');
  writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
});
afterEach(() => cleanup());

const ok = (body: unknown): HttpResponse => ({ status: 200, body });

async function run(
  argv: string[],
  routes: Record<string, HttpResponse> = {},
  env: Record<string, string> = {},
) {
  const stdout = sink();
  const stderr = sink();
  const transport = fakeTransport(routes);
  const code = await runApproveCli(argv, {
    stdout,
    stderr,
    env: { KUBEGATE_URL: 'https://kubegate.test:8443', APPROVE_KEY: keyFile, ...env },
    now: () => NOW,
    random: () => 0.123,
    transport: () => transport,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), calls: transport.calls };
}

const ID = 'req-20261125-0007';
const GET = `GET /kubegate/v1/requests/${ID}`;
/** approve fetches the preview before it signs: the held patch's dry run. */
const PREVIEW = { [dryRunRoute(ID)]: ok(patchPreview) };
const posts = <C extends { method: string }>(calls: C[]) => calls.filter((c) => c.method === 'POST');

describe('the fingerprint check', () => {
  // kubegate (or something between) shows one change but reports the fingerprint of another
  const honest = view();
  const tampered = { ...honest, detail: { ...honest.detail, body: { spec: { replicas: 1 } } } };

  it('show refuses loudly and exits 1', async () => {
    const r = await run(['show', ID], { [GET]: ok(tampered) });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/FINGERPRINT MISMATCH for req-20261125-0007: REFUSING/);
    expect(r.stderr).toContain(`kubegate reported: ${honest.fingerprint}`);
    expect(r.stderr).toMatch(/Do NOT approve it/);
  });

  it('approve refuses and never signs or posts an approval', async () => {
    const r = await run(['approve', ID], {
      [GET]: ok(tampered),
      'POST /kubegate/v1/approvals': { status: 201, body: { approved: [ID] } },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FINGERPRINT MISMATCH/);
    expect(r.calls.map((c) => `${c.method} ${c.path}`)).toEqual([GET]);
  });

  it('approve --plan refuses the whole plan when one request does not match', async () => {
    const other = view({ id: 'req-2' });
    const r = await run(['approve', ID, 'req-2', '--plan', '--print'], {
      [GET]: ok(honest),
      'GET /kubegate/v1/requests/req-2': ok({ ...other, requester: 'someone-else' }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/FINGERPRINT MISMATCH for req-2/);
  });

  it('refuses an answer about a different request', async () => {
    const r = await run(['show', ID], { [GET]: ok(view({ id: 'req-other' })) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/asked kubegate for req-20261125-0007 but it answered with req-other/);
  });

  it('show prints the request once it matches, reading with a signed read token', async () => {
    const r = await run(['show', ID], { [GET]: ok(honest) });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(recomputed here: matches)');
    const auth = r.calls[0]?.headers.authorization ?? '';
    const claims = decodeJwt(auth.replace(/^Bearer /, ''));
    expect(claims).toMatchObject({
      iss: 'approve-cli',
      aud: 'kubegate',
      sub: 'alice',
      kubegate: { action: 'read' },
    });
    expect(claims.exp! - claims.iat!).toBe(60);
  });
});

describe('approve', () => {
  it('signs one token bound to the fingerprint, resourceVersion and last withdrawal, and posts it', async () => {
    const v = { ...view(), withdrawn_at: 1_764_000_000_007 };
    const r = await run(['approve', ID, '--ttl', '5m', '--gate', 'prod-eu'], {
      [GET]: ok(v),
      ...PREVIEW,
      'POST /kubegate/v1/approvals': { status: 201, body: { approved: [ID], approver: 'alice' } },
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `approving ${ID}: HIGH patch apps/v1 deployments production/api by system:serviceaccount:agents:clawd (change in a production namespace)`,
    );
    expect(r.stdout).toBe(`approved ${ID} (1 of 1 approvals; run the command again)\n`);
    const token = (posts(r.calls)[0]!.body as { token: string }).token;
    const claims = decodeJwt(token);
    // the gate's name, and the cluster of the request it approves
    expect(claims.aud).toEqual(['prod-eu', 'kubegate']);
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.kubegate).toEqual({
      action: 'approve',
      fingerprints: [v.fingerprint],
      requestIds: [ID],
      risk: 'HIGH',
      resourceVersion: '4242',
      withdrawals: [1_764_000_000_007],
      signedAt: expect.any(Number),
    });
    // signedAt is the signing time in ms, from the clock that set iat (kubegate allows a second)
    const signedAt = (claims.kubegate as { signedAt: number }).signedAt;
    expect(Math.abs(signedAt - claims.iat! * 1000)).toBeLessThan(1000);
  });

  it('--print prints the token and posts nothing', async () => {
    const r = await run(['approve', ID, '--print'], { [GET]: ok(view()), ...PREVIEW });
    expect(r.code).toBe(0);
    expect(posts(r.calls)).toEqual([]);
    expect(decodeJwt(r.stdout.trim()).kubegate).toMatchObject({ action: 'approve', requestIds: [ID] });
    expect(r.stderr).toMatch(/Kubegate-Approval header/);
  });

  it('--plan approves several requests with one token', async () => {
    const a = view();
    const b = view({ id: 'req-2', risk: 'CRITICAL', detail: { body: { spec: { replicas: 7 } } } });
    const r = await run(
      ['approve', ID, 'req-2', '--plan', '--override', '--reason', 'incident 7', '--print'],
      {
        [GET]: ok(a),
        'GET /kubegate/v1/requests/req-2': ok(b),
        ...PREVIEW,
        [dryRunRoute('req-2')]: ok(patchPreview),
      },
    );
    expect(r.code).toBe(0);
    expect(decodeJwt(r.stdout.trim()).kubegate).toEqual({
      action: 'approve',
      fingerprints: [a.fingerprint, b.fingerprint],
      requestIds: [ID, 'req-2'],
      resourceVersions: ['4242', '4242'],
      withdrawals: [0, 0],
      risk: 'CRITICAL',
      override: true,
      reason: 'incident 7',
      planId: 'batch-20261125-1f7ced91',
      signedAt: expect.any(Number),
    });
  });

  it('refuses a request that is no longer pending, or that the approver made', async () => {
    const done = await run(['approve', ID], { [GET]: ok(view({ status: 'executed' })) });
    expect(done.code).toBe(1);
    expect(done.stderr).toBe(`approve-cli: ${ID} is executed, not pending: nothing to approve\n`);
    const own = await run(['approve', ID], { [GET]: ok(view({ requester: 'alice' })) });
    expect(own.stderr).toMatch(
      /alice requested req-20261125-0007; a requester cannot approve their own request/,
    );
  });

  it('notes a missing override on a request that needs one', async () => {
    const r = await run(['approve', ID, '--print'], {
      [GET]: ok(view({ detail: { override_required: true } })),
      ...PREVIEW,
    });
    expect(r.stderr).toMatch(/needs an override; this approval carries none/);
  });
});

describe('errors are one readable line', () => {
  it('prints the message of a kubegate Status', async () => {
    const r = await run(['show', ID], {
      [GET]: {
        status: 401,
        body: {
          kind: 'Status',
          status: 'Failure',
          reason: 'Unauthorized',
          code: 401,
          message: 'unknown signing key "alice-x"',
        },
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'approve-cli: kubegate refused (401 Unauthorized): unknown signing key "alice-x"\n',
    );
  });

  it('a non-Status error answer still says what happened', async () => {
    const r = await run(['list'], { 'GET /kubegate/v1/requests': { status: 502, body: 'Bad Gateway' } });
    expect(r.stderr).toBe('approve-cli: kubegate answered HTTP 502: Bad Gateway\n');
  });

  it('a malformed answer is refused, not half-rendered', async () => {
    const r = await run(['show', ID], { [GET]: ok({ id: ID }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^approve-cli: kubegate sent a malformed answer: request.fingerprint is not a string\n$/,
    );
  });

  it('missing KUBEGATE_URL, missing key, unreadable key, public key', async () => {
    const noUrl = await run(['list'], {}, { KUBEGATE_URL: '' });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toMatch(/^approve-cli: KUBEGATE_URL is not set/);
    expect((await run(['list'], {}, { APPROVE_KEY: '' })).stderr).toMatch(
      /no approver key: pass --key FILE or set APPROVE_KEY/,
    );
    expect((await run(['list'], {}, { APPROVE_KEY: join(dir, 'nope.jwk') })).stderr).toMatch(
      /cannot read approver key .*nope.jwk: ENOENT/,
    );
    const { publicJwk } = await generateApproverKey('bob');
    writeFileSync(join(dir, 'bob.pub'), JSON.stringify(publicJwk));
    expect((await run(['list', '--key', join(dir, 'bob.pub')])).stderr).toMatch(/is a public key/);
    expect((await run(['list'], {}, { KUBEGATE_URL: 'http://kubegate.example.com' })).stderr).toMatch(
      /must be https/,
    );
    expect((await run(['list'], {}, { KUBEGATE_CA: join(dir, 'no-ca.crt') })).stderr).toMatch(
      /cannot read KUBEGATE_CA/,
    );
  });

  it('warns about a key others can read', async () => {
    writeFileSync(keyFile, readFileSync(keyFile), { mode: 0o644 });
    const { chmodSync } = await import('node:fs');
    chmodSync(keyFile, 0o644);
    const r = await run(['freeze', 'status'], { 'GET /kubegate/v1/freeze': ok({ on: false }) });
    expect(r.stderr).toMatch(/readable by other users/);
    expect(r.stdout).toBe('freeze: off\n');
  });

  it('usage errors exit 2 with a hint', async () => {
    const r = await run(['approve', 'a', 'b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--plan/);
    expect(r.stderr).toMatch(/approve-cli help/);
    const rb = await run(['rollback']);
    expect(rb.code).toBe(2);
    const help = await run(['help']);
    expect(help.code).toBe(0);
    for (const word of [
      'keygen',
      'list',
      'watch',
      'show',
      'approve',
      'reject',
      'revoke',
      'freeze',
      'rollback',
      'KUBEGATE_URL',
      'KUBEGATE_CA',
      'APPROVE_KEY',
    ]) {
      expect(help.stdout).toContain(word);
    }
    expect((await run([])).code).toBe(2);
  });
});

describe('reject, revoke, freeze', () => {
  it('each posts one action token naming what it acts on', async () => {
    const r = await run(['reject', ID, '--reason', 'wrong namespace'], {
      [`POST /kubegate/v1/requests/${ID}/reject`]: ok({ rejected: ID }),
    });
    expect(r.stdout).toBe(`rejected ${ID}: wrong namespace\n`);
    const reject = decodeJwt((r.calls[0]!.body as { token: string }).token);
    expect(reject.kubegate).toEqual({ action: 'reject', requestIds: [ID], reason: 'wrong namespace' });
    expect(reject.exp! - reject.iat!).toBe(60);

    const v = await run(['revoke', ID], {
      [`POST /kubegate/v1/requests/${ID}/revoke`]: ok({ request: ID, revoked: 2 }),
    });
    expect(v.stdout).toBe(`revoked 2 unused approvals of ${ID}\n`);
    expect(decodeJwt((v.calls[0]!.body as { token: string }).token).kubegate).toEqual({
      action: 'revoke',
      requestIds: [ID],
    });

    const f = await run(['freeze', 'on', '--reason', 'incident'], {
      'POST /kubegate/v1/freeze': ok({ on: true, by: 'alice', cancelled: 3 }),
    });
    expect(f.stdout).toBe('freeze ON: kubegate now refuses every change; 3 held requests cancelled\n');
    expect(decodeJwt((f.calls[0]!.body as { token: string }).token).kubegate).toEqual({
      action: 'freeze',
      freeze: true,
      reason: 'incident',
    });
  });
});

describe('keygen', () => {
  it('writes the private key 0600, prints the public one, and never overwrites', async () => {
    const out = join(dir, 'carol.jwk');
    const r = await run(['keygen', '--name', 'carol', '--out', out], {}, { KUBEGATE_URL: '' });
    expect(r.code).toBe(0);
    const pub = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(pub).toMatchObject({ kty: 'OKP', crv: 'Ed25519', name: 'carol', alg: 'EdDSA' });
    expect(pub.d).toBeUndefined();
    const priv = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
    expect(priv).toMatchObject({ kid: pub.kid, name: 'carol' });
    expect(typeof priv.d).toBe('string');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(r.stderr).toMatch(
      /the file kubegate's config names in approvers\.jwks \(approvers\.jwks\.json in `kubegate dev` and deploy\/\).*reloads that file when it changes/,
    );

    const again = await run(['keygen', '--name', 'carol', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; refusing to overwrite a key/);
    expect((await run(['keygen', '--name', 'no spaces', '--out', join(dir, 'x.jwk')])).stderr).toMatch(
      /invalid approver name/,
    );
  });
});
