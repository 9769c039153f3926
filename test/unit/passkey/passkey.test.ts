import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyPasskeyApproval } from '../../../src/passkey/approval.js';
import { challengeOf, type PasskeyClaims, type PasskeyEvidence } from '../../../src/passkey/claims.js';
import { ENROLLED_EVENT, PasskeyAuditCheck } from '../../../src/passkey/offline.js';
import { PasskeyStore } from '../../../src/passkey/store.js';
import { SoftAuthenticator } from './authenticator.js';

const rp = { origin: 'https://localhost:8443', rpId: 'localhost' };
const now = Math.floor(Date.now() / 1000);
const claims = (over: Partial<PasskeyClaims> = {}): PasskeyClaims => ({
  action: 'approve',
  fingerprints: ['sha256:aaa'],
  requestIds: ['req-1'],
  risk: 'MEDIUM',
  sub: 'alice',
  aud: 'kubegate',
  iat: now,
  exp: now + 120,
  jti: 'j-1',
  ...over,
});

function storeWith(auth: SoftAuthenticator, approver = 'alice'): PasskeyStore {
  const s = new PasskeyStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'pk-')), 'passkeys.json'));
  s.add({ id: auth.id, approver, public_key: auth.publicKeyCose, counter: 0, enrolled_at: '' });
  return s;
}

describe('the challenge of a passkey approval', () => {
  it('is the hash of the canonical claims: key order does not matter, every claim does', () => {
    const c = claims();
    const reordered = Object.fromEntries(Object.entries(c).reverse()) as PasskeyClaims;
    expect(challengeOf(reordered)).toBe(challengeOf(c));
    const changes: Partial<PasskeyClaims>[] = [
      { fingerprints: ['sha256:bbb'] },
      { risk: 'LOW' },
      { override: true },
      { reason: 'x' },
      { aud: 'other' },
      { exp: now + 121 },
      { jti: 'j-2' },
      { sub: 'bob' },
    ];
    for (const ch of changes) expect(challengeOf(claims(ch))).not.toBe(challengeOf(c));
  });
});

describe('verifyPasskeyApproval', () => {
  it('accepts an assertion over exactly these claims, with the evidence and the new counter', async () => {
    const auth = new SoftAuthenticator();
    const store = storeWith(auth);
    const c = claims();
    const a = await verifyPasskeyApproval(rp, store, c, auth.assert({ ...rp, challenge: challengeOf(c) }));
    expect(a.verified).toMatchObject({ approver: 'alice', fingerprints: ['sha256:aaa'], jti: 'j-1' });
    expect(a.verified.passkey?.claims).toEqual(c);
    expect(store.get(auth.id)?.counter).toBe(1);
  });

  it('refuses an assertion made for other claims (replay onto another request)', async () => {
    const auth = new SoftAuthenticator();
    const store = storeWith(auth);
    const signed = auth.assert({ ...rp, challenge: challengeOf(claims()) });
    const other = claims({ fingerprints: ['sha256:bbb'], requestIds: ['req-2'], jti: 'j-2' });
    await expect(verifyPasskeyApproval(rp, store, other, signed)).rejects.toThrow(
      /passkey assertion refused/,
    );
  });

  it("refuses another approver's passkey, a missing user verification, and a wrong origin", async () => {
    const auth = new SoftAuthenticator();
    const c = claims();
    const good = () => auth.assert({ ...rp, challenge: challengeOf(c) });
    await expect(verifyPasskeyApproval(rp, storeWith(auth, 'bob'), c, good())).rejects.toThrow(
      /not one of alice's registered passkeys/,
    );
    const noUv = auth.assert({ ...rp, challenge: challengeOf(c), userVerified: false });
    await expect(verifyPasskeyApproval(rp, storeWith(auth), c, noUv)).rejects.toThrow(/refused/);
    const evil = auth.assert({
      origin: 'https://evil.example',
      rpId: 'localhost',
      challenge: challengeOf(c),
    });
    await expect(verifyPasskeyApproval(rp, storeWith(auth), c, evil)).rejects.toThrow(/refused/);
  });
});

describe('the offline check of `audit verify`', () => {
  async function recorded() {
    const auth = new SoftAuthenticator();
    const c = claims();
    const a = await verifyPasskeyApproval(
      rp,
      storeWith(auth),
      c,
      auth.assert({ ...rp, challenge: challengeOf(c) }),
    );
    const enrolled = {
      event: ENROLLED_EVENT,
      approver: 'alice',
      credential_id: auth.id,
      public_key: auth.publicKeyCose,
      origin: rp.origin,
      rp_id: rp.rpId,
    };
    const approved = {
      event: 'approved',
      approver: 'alice',
      fingerprint: 'sha256:aaa',
      passkey: a.verified.passkey,
    };
    return { enrolled, approved, evidence: a.verified.passkey as PasskeyEvidence };
  }

  it('re-checks a stored assertion against the enrolment in the log', async () => {
    const { enrolled, approved } = await recorded();
    const check = new PasskeyAuditCheck();
    expect(await check.check(enrolled)).toBeUndefined();
    expect(await check.check(approved)).toBeUndefined();
    expect(check.checked).toBe(1);
  });

  it('fails when one byte of the assertion or of its claims changes, or nothing enrolled it', async () => {
    const { enrolled, approved, evidence } = await recorded();
    const sig = Buffer.from(evidence.signature, 'base64url');
    sig[10]! ^= 1;
    const cases = [
      { ...approved, passkey: { ...evidence, signature: sig.toString('base64url') } },
      { ...approved, passkey: { ...evidence, claims: { ...evidence.claims, risk: 'LOW' } } },
      { ...approved, fingerprint: 'sha256:bbb' },
      { ...approved, approver: 'bob' },
    ];
    for (const r of cases) {
      const check = new PasskeyAuditCheck();
      await check.check(enrolled);
      expect(await check.check(r)).toMatch(/^passkey assertion: /);
    }
    expect(await new PasskeyAuditCheck().check(approved)).toMatch(/never enrolled/);
  });

  it('fails a console record whose assertion was removed (F4)', async () => {
    const { enrolled, approved } = await recorded();
    const { passkey: _p, ...stripped } = approved;
    for (const r of [
      { ...stripped, via: 'console' },
      { ...stripped, via: 'console', approver: 'mallory' },
      { event: 'rejected', request_id: 'req-1', approver: 'alice', via: 'console' },
    ]) {
      const check = new PasskeyAuditCheck();
      await check.check(enrolled);
      expect(await check.check(r)).toMatch(/without its passkey assertion/);
    }
  });

  it("refuses a second enrolment of one credential for another approver; alice's assertion stays hers (F4)", async () => {
    const { enrolled, approved } = await recorded();
    const check = new PasskeyAuditCheck();
    await check.check(enrolled);
    expect(await check.check({ ...enrolled, approver: 'mallory' })).toMatch(
      /enrolled again for mallory, already enrolled by alice/,
    );
    expect(await check.check(approved)).toBeUndefined();
    // the assertion must come from the recorded approver's own enrolment
    expect(await check.check({ ...approved, approver: 'mallory' })).toMatch(/^passkey assertion: /);
  });
});
