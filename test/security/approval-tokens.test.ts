import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminCreate,
  approverKey,
  clusterName,
  configMap,
  forwardedSince,
  gate,
  HELD_MS,
  lastSeq,
  live,
  ns,
  pendingList,
  postApproval,
  pwnedPatch,
  rv,
  signToken,
  since,
  sleep,
  unsignedToken,
  waitPending,
} from './helpers.js';

/**
 * A held `generateName` ConfigMap create in a fresh namespace: what runs again unnoticed if an
 * approval pays twice (every run makes a new object).
 */
async function heldGeneratedCreate(prefix: string) {
  const n = await ns(`tok-${prefix}`);
  const list = `/api/v1/namespaces/${n}/configmaps`;
  const create = {
    method: 'POST',
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: `${prefix}-` } },
  };
  await gate(list, { ...create, timeoutMs: HELD_MS });
  for (let i = 0; i < 100; i++) {
    const held = (await pendingList()).find(
      (p) => String(p.target).startsWith(`${n}/`) && p.status === 'pending',
    ) as { id: string; fingerprint: string } | undefined;
    if (held) {
      const made = async () =>
        (await live(list)).items
          .map((c: { metadata: { name: string } }) => c.metadata.name)
          .filter((x: string) => x.startsWith(`${prefix}-`));
      return { ns: n, list, create, held, made };
    }
    await sleep(150);
  }
  throw new Error(`no held create in ${n}`);
}

/**
 * Approval token attacks, each sent both in the `Kubegate-Approval` header of the held request and
 * to the approval API (POST /kubegate/v1/approvals {token}). The request must stay unapproved and
 * the object unchanged.
 */
describe('approval token attacks', () => {
  let n: string;
  let fp: string;
  let id: string;
  const cm = () => `/api/v1/namespaces/${n}/configmaps/victim`;
  const patch = pwnedPatch;

  beforeAll(async () => {
    n = await ns('tok');
    await configMap(n, 'victim');
    await gate(cm(), { ...patch, timeoutMs: HELD_MS });
    const p = await waitPending(`${n}/configmaps/victim`);
    fp = p.fingerprint;
    id = p.id;
  });

  async function now(): Promise<number> {
    return Math.floor(Date.now() / 1000);
  }

  const bad: [string, (fp: string, id: string) => Promise<string>][] = [
    [
      'alg none',
      async (fp, _id) =>
        unsignedToken(
          {
            kubegate: { action: 'approve', fingerprints: [fp] },
            iss: 'approve-cli',
            aud: clusterName(),
            sub: 'alice',
            iat: await now(),
            exp: (await now()) + 300,
            jti: randomUUID(),
          },
          { kid: approverKey('alice').kid },
        ),
    ],
    [
      'alg None (case)',
      async (fp, _id) =>
        unsignedToken(
          {
            kubegate: { action: 'approve', fingerprints: [fp] },
            iss: 'approve-cli',
            aud: clusterName(),
            sub: 'alice',
            iat: await now(),
            exp: (await now()) + 300,
            jti: randomUUID(),
          },
          { alg: 'None', kid: approverKey('alice').kid },
        ),
    ],
    [
      'HS256 keyed with the public JWK',
      async (fp, _id) => {
        const k = approverKey('alice');
        const pub = { kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, name: k.name, alg: 'EdDSA', use: 'sig' };
        return new SignJWT({ kubegate: { action: 'approve', fingerprints: [fp] } })
          .setProtectedHeader({ alg: 'HS256', kid: k.kid })
          .setIssuer('approve-cli')
          .setAudience(clusterName())
          .setSubject('alice')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(new TextEncoder().encode(JSON.stringify(pub)));
      },
    ],
    [
      'HS256 keyed with the raw public key bytes',
      async (fp, _id) => {
        const k = approverKey('alice');
        return new SignJWT({ kubegate: { action: 'approve', fingerprints: [fp] } })
          .setProtectedHeader({ alg: 'HS256', kid: k.kid })
          .setIssuer('approve-cli')
          .setAudience(clusterName())
          .setSubject('alice')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(Buffer.from(k.x!, 'base64url'));
      },
    ],
    [
      "ES256 with an attacker key and alice's kid",
      async (fp, _id) => {
        const { privateKey } = await generateKeyPair('ES256');
        return new SignJWT({ kubegate: { action: 'approve', fingerprints: [fp] } })
          .setProtectedHeader({ alg: 'ES256', kid: approverKey('alice').kid })
          .setIssuer('approve-cli')
          .setAudience(clusterName())
          .setSubject('alice')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(privateKey);
      },
    ],
    [
      "an attacker Ed25519 key with alice's kid",
      async (fp, _id) => {
        const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
        return signToken('alice', { fingerprints: [fp] }, await exportJWK(privateKey));
      },
    ],
    [
      'an attacker key with an embedded jwk header',
      async (fp, _id) => {
        const { privateKey, publicKey } = await generateKeyPair('EdDSA', {
          crv: 'Ed25519',
          extractable: true,
        });
        return new SignJWT({ kubegate: { action: 'approve', fingerprints: [fp] } })
          .setProtectedHeader({ alg: 'EdDSA', jwk: await exportJWK(publicKey) })
          .setIssuer('approve-cli')
          .setAudience(clusterName())
          .setSubject('alice')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(privateKey);
      },
    ],
    [
      'unknown kid',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], kid: 'mallory-123' }),
    ],
    [
      'no kid',
      async (fp, _id) => {
        const k = approverKey('alice');
        const { importJWK } = await import('jose');
        return new SignJWT({ kubegate: { action: 'approve', fingerprints: [fp] } })
          .setProtectedHeader({ alg: 'EdDSA' })
          .setIssuer('approve-cli')
          .setAudience(clusterName())
          .setSubject('alice')
          .setIssuedAt()
          .setExpirationTime('5m')
          .setJti(randomUUID())
          .sign(await importJWK(k, 'EdDSA'));
      },
    ],
    [
      'expired',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], iat: -600, exp: -300 }),
    ],
    ['nbf in the future', (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], nbf: 600 })],
    [
      'wrong audience',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], aud: 'another-cluster' }),
    ],
    [
      'wrong issuer',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], iss: 'mallory' }),
    ],
    [
      'subject does not own the key (alice key, sub bob)',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], sub: 'bob' }),
    ],
    [
      'lifetime longer than max_token_ttl_seconds',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], exp: 24 * 3600 }),
    ],
    [
      'approval for another request (fingerprint)',
      (_fp, id) => signToken('alice', { fingerprints: [`sha256:${'0'.repeat(64)}`], requestIds: [id] }),
    ],
    [
      'a read token used as an approval',
      (fp, id) => signToken('alice', { action: 'read', fingerprints: [fp], requestIds: [id] }),
    ],
    [
      'a reject token used as an approval',
      (fp, id) => signToken('alice', { action: 'reject', fingerprints: [fp], requestIds: [id] }),
    ],
    ['an approval naming no fingerprint', (_fp, id) => signToken('alice', { requestIds: [id] })],
    [
      'fingerprints not strings',
      (_fp, id) => signToken('alice', { requestIds: [id], extra: { fingerprints: [{ $ne: null }] } }),
    ],
    [
      'override without a reason',
      (fp, id) => signToken('alice', { fingerprints: [fp], requestIds: [id], override: true, reason: '  ' }),
    ],
    [
      'signature stripped from a valid token',
      async (fp, id) =>
        (await signToken('alice', { fingerprints: [fp], requestIds: [id] })).replace(/\.[^.]+$/, '.'),
    ],
    [
      'payload swapped under a valid signature',
      async (fp, _id) => {
        const good = (await signToken('alice', { fingerprints: [`sha256:${'1'.repeat(64)}`] })).split('.');
        const payload = JSON.parse(Buffer.from(good[1]!, 'base64url').toString());
        payload.kubegate.fingerprints = [fp];
        return `${good[0]}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${good[2]}`;
      },
    ],
  ];

  describe('in the Kubegate-Approval header of the held request', () => {
    for (const [name, make] of bad) {
      it(`${name}: 403 approval refused, object unchanged, refusal audited`, async () => {
        const before = await rv(cm());
        const seq = lastSeq();
        const r = await gate(cm(), {
          ...patch,
          headers: { 'kubegate-approval': await make(fp, id) },
          timeoutMs: HELD_MS,
        });
        expect(r.timedOut, `${name}: the token was accepted and the request held for more`).toBe(false);
        expect(r.status, r.body.slice(0, 300)).toBe(403);
        expect(r.json?.message).toMatch(/approval refused/);
        await sleep(100);
        expect(await rv(cm())).toBe(before);
        expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
        expect(
          since(seq).some((x) => x.event === 'rejected' && /approval refused/.test(String(x.message))),
        ).toBe(true);
      });
    }
  });

  describe('posted to the approval API', () => {
    let fp2: string;
    let id2: string;
    beforeAll(async () => {
      await configMap(n, 'api-victim');
      await gate(`/api/v1/namespaces/${n}/configmaps/api-victim`, { ...patch, timeoutMs: HELD_MS });
      const p = await waitPending(`${n}/configmaps/api-victim`);
      fp2 = p.fingerprint;
      id2 = p.id;
    });
    for (const [name, make] of bad) {
      it(`${name}: refused (4xx), the request stays unapproved`, async () => {
        const r = await postApproval(await make(fp2, id2));
        expect(r.status, r.body.slice(0, 300)).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure' });
        const d = await gate(`/kubegate/v1/requests/${id2}`, {
          as: null,
          token: await signToken('bob', { action: 'read', exp: 60 }),
        });
        expect(d.json.approvals).toEqual([]);
        expect(d.json.status).toBe('pending');
        expect((await live(`/api/v1/namespaces/${n}/configmaps/api-victim`)).data).toEqual({ a: '1' });
      });
    }

    it("the agent's own kube token (or no token) is not an approver token", async () => {
      expect(
        (await gate('/kubegate/v1/approvals', { method: 'POST', as: null, body: { token: 'x' } })).status,
      ).toBe(401);
      expect((await gate('/kubegate/v1/approvals', { method: 'POST', body: {} })).status).toBe(401);
      expect((await gate('/kubegate/v1/requests')).status).toBe(401);
      const r = await gate('/kubegate/v1/freeze', { method: 'POST', body: { token: 'x' } });
      expect(r.status).toBe(401);
    });
  });

  // FINDING: verifyApproval (approval/token.ts) only bounds exp - iat, so a token "issued" a year from
  // now with exp = iat + 10 min is accepted today and stays valid for a year.
  describe('token lifetime', () => {
    it('an approval whose iat is a year in the future is refused (header)', async () => {
      await configMap(n, 'future-h');
      const p = `/api/v1/namespaces/${n}/configmaps/future-h`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/future-h`);
      const token = await signToken('alice', {
        fingerprints: [pend.fingerprint],
        iat: 365 * 86400,
        exp: 365 * 86400 + 600,
      });
      const before = await rv(p);
      const r = await gate(p, { ...patch, headers: { 'kubegate-approval': token }, timeoutMs: HELD_MS });
      await sleep(200);
      expect(await rv(p), `answered ${r.status}: a year-long approval token was accepted`).toBe(before);
      expect(r.status).toBe(403);
    });

    it('an approval whose iat is a year in the future is refused (API)', async () => {
      await configMap(n, 'future-a');
      const p = `/api/v1/namespaces/${n}/configmaps/future-a`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/future-a`);
      const token = await signToken('alice', {
        fingerprints: [pend.fingerprint],
        requestIds: [pend.id],
        iat: 365 * 86400,
        exp: 365 * 86400 + 600,
      });
      const r = await postApproval(token);
      expect(r.status, 'a year-long approval token was accepted by the API').toBe(401);
    });
  });

  describe('replay', () => {
    it('a token used once (header) cannot be used again, even for the identical request', async () => {
      await configMap(n, 'replay');
      const p = `/api/v1/namespaces/${n}/configmaps/replay`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/replay`);
      const token = await signToken('alice', { fingerprints: [pend.fingerprint], requestIds: [pend.id] });
      const first = await gate(p, { ...patch, headers: { 'kubegate-approval': token } });
      expect(first.status).toBe(200);
      // the admin puts it back; the agent replays the same request with the same token
      const cur = await live(p);
      const { direct } = await import('./helpers.js');
      await direct(p, { method: 'PUT', body: { ...cur, data: { a: '1' } } });
      const before = await rv(p);
      const again = await gate(p, { ...patch, headers: { 'kubegate-approval': token }, timeoutMs: HELD_MS });
      expect(again.status).toBe(403);
      expect(again.json.message).toMatch(/already used|replay|no longer held/);
      expect(await rv(p)).toBe(before);
    });

    it('(bypass round 13) a spare approval of a request that ran does not run it again (header)', async () => {
      const { ns: dup, list, create, held, made } = await heldGeneratedCreate('dup');
      const claims = { fingerprints: [held.fingerprint], requestIds: [held.id] };
      const spare = await signToken('alice', claims);
      expect((await postApproval(await signToken('bob', claims))).status).toBe(201);
      expect((await gate(list, create)).status).toBe(201);
      // as an attacker would: after the run is over (the answer comes before its outcome is stored)
      const read = await signToken('alice', { action: 'read', exp: 60 });
      for (let i = 0; i < 100; i++) {
        const r = await gate(`/kubegate/v1/requests/${held.id}`, { as: null, token: read });
        if (r.json?.status === 'executed') break;
        await sleep(100);
      }
      const seq = lastSeq();
      const again = await gate(list, {
        ...create,
        headers: { 'kubegate-approval': spare },
        timeoutMs: HELD_MS,
      });
      expect(again.status, again.body.slice(0, 300)).toBe(403);
      expect(again.json.message).toMatch(/approval refused/);
      expect(forwardedSince(seq, dup)).toEqual([]);
      expect(await made()).toHaveLength(1);
    });

    it("(bypass round 14) two approvers' header tokens sent at once: the held request runs once", async () => {
      const { list, create, held, made } = await heldGeneratedCreate('twin');
      const claims = { fingerprints: [held.fingerprint], requestIds: [held.id] };
      const runs = await Promise.all(
        (['alice', 'bob'] as const).map(async (who) =>
          gate(list, { ...create, headers: { 'kubegate-approval': await signToken(who, claims) } }),
        ),
      );
      expect(runs.map((r) => r.status).filter((x) => x === 201)).toHaveLength(1);
      expect(await made()).toHaveLength(1);
    });

    it('(bypass round 16) header tokens naming no held request approve nothing: two at once ran the change twice', async () => {
      const { list, create, held, made } = await heldGeneratedCreate('anon');
      const named = { fingerprints: [held.fingerprint], requestIds: [held.id] };
      expect((await postApproval(await signToken('bob', named))).status).toBe(201);
      expect((await gate(list, create)).status).toBe(201);
      const runs = await Promise.all(
        (['alice', 'bob'] as const).map(async (who) =>
          gate(list, {
            ...create,
            headers: { 'kubegate-approval': await signToken(who, { fingerprints: [held.fingerprint] }) },
          }),
        ),
      );
      expect(runs.map((r) => r.status)).toEqual([403, 403]);
      expect(runs[0]!.json.message).toMatch(/must name the held request it approves/);
      expect(await made()).toHaveLength(1);
    });

    it('a token posted twice to the API: 409 the second time', async () => {
      await configMap(n, 'replay2');
      const p = `/api/v1/namespaces/${n}/configmaps/replay2`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/replay2`);
      const token = await signToken('alice', { fingerprints: [pend.fingerprint], requestIds: [pend.id] });
      expect((await postApproval(token)).status).toBe(201);
      const second = await postApproval(token);
      expect(second.status).toBe(409);
    });
  });

  describe('self-approval and distinct approvers', () => {
    it('alice cannot approve her own request (API and header); the object stays unchanged', async () => {
      await configMap(n, 'alices');
      const p = `/api/v1/namespaces/${n}/configmaps/alices`;
      const before = await rv(p);
      const r = await gate(p, { ...patch, as: 'alice', timeoutMs: HELD_MS });
      expect(r.timedOut || r.status === 403).toBe(true);
      const pend = await waitPending(`${n}/configmaps/alices`);
      expect(pend.requester).toBe('alice');
      const api = await postApproval(
        await signToken('alice', { fingerprints: [pend.fingerprint], requestIds: [pend.id] }),
      );
      expect(api.status).toBe(403);
      expect(api.json.message).toMatch(/cannot approve/);
      const hdr = await gate(p, {
        ...patch,
        as: 'alice',
        headers: {
          'kubegate-approval': await signToken('alice', {
            fingerprints: [pend.fingerprint],
            requestIds: [pend.id],
          }),
        },
        timeoutMs: HELD_MS,
      });
      expect(hdr.status).toBe(403);
      expect(hdr.json.message).toMatch(/own request/);
      expect(await rv(p)).toBe(before);
    });

    it('CRITICAL: one approver signing twice (both with override) is not two approvers', async () => {
      await adminCreate(`/api/v1/namespaces/${n}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db' },
        stringData: { pw: 'old' },
      });
      const p = `/api/v1/namespaces/${n}/secrets/db`;
      const sp = {
        method: 'PATCH',
        body: { stringData: { pw: 'pwned' } },
        contentType: 'application/merge-patch+json',
      };
      const first = await gate(p, { ...sp, timeoutMs: HELD_MS });
      expect(first.status).toBe(403);
      const pend = (await pendingList()).filter((x) => x.target === `${n}/secrets/db`).pop();
      expect(pend.risk).toBe('CRITICAL');
      for (let i = 0; i < 2; i++) {
        const r = await postApproval(
          await signToken('alice', {
            fingerprints: [pend.fingerprint],
            requestIds: [pend.id],
            override: true,
            reason: `twice ${i}`,
          }),
        );
        expect(r.status).toBe(201);
      }
      const before = await rv(p);
      const seq = lastSeq();
      const again = await gate(p, { ...sp, timeoutMs: HELD_MS });
      expect(again.timedOut || again.status === 403).toBe(true);
      await sleep(200);
      expect(await rv(p)).toBe(before);
      expect(forwardedSince(seq, `${n}/secrets/db`)).toEqual([]);
      // two header tokens from the same approver do not count twice either
      const hdr = [
        await signToken('alice', {
          fingerprints: [pend.fingerprint],
          requestIds: [pend.id],
          override: true,
          reason: 'a',
        }),
        await signToken('alice', {
          fingerprints: [pend.fingerprint],
          requestIds: [pend.id],
          override: true,
          reason: 'b',
        }),
      ].join(', ');
      const viaHeader = await gate(p, { ...sp, headers: { 'kubegate-approval': hdr }, timeoutMs: HELD_MS });
      expect(viaHeader.timedOut || viaHeader.status === 403).toBe(true);
      await sleep(200);
      expect(await rv(p)).toBe(before);
    });

    it('control: with a second, different approver the CRITICAL change does go through (the gate is not just broken)', async () => {
      const p = `/api/v1/namespaces/${n}/secrets/db`;
      const sp = {
        method: 'PATCH',
        body: { stringData: { pw: 'pwned' } },
        contentType: 'application/merge-patch+json',
      };
      const pend = (await pendingList()).filter((x) => x.target === `${n}/secrets/db`).pop();
      expect(
        (
          await postApproval(
            await signToken('bob', { fingerprints: [pend.fingerprint], requestIds: [pend.id] }),
          )
        ).status,
      ).toBe(201);
      const r = await gate(p, sp);
      expect(r.status).toBe(200);
      expect(Buffer.from((await live(p)).data.pw, 'base64').toString()).toBe('pwned');
    });
  });

  describe('approval after reject or revoke, tampered ids', () => {
    // FINDING: a rejected request runs anyway when the requester brings a token another approver
    // signed before the rejection (gate.ts acceptHeaderToken/checkApprovals never look at rejections).
    it('after a reject, an approval token signed before the rejection does not run the request', async () => {
      await configMap(n, 'rejected');
      const p = `/api/v1/namespaces/${n}/configmaps/rejected`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/rejected`);
      const bobs = await signToken('bob', { fingerprints: [pend.fingerprint], requestIds: [pend.id] });
      await sleep(1100); // the rejection is strictly later than bob's token
      const rej = await postApproval(
        await signToken('alice', { action: 'reject', requestIds: [pend.id], reason: 'no' }),
        `/kubegate/v1/requests/${pend.id}/reject`,
      );
      expect(rej.status).toBe(200);
      const before = await rv(p);
      const r = await gate(p, { ...patch, headers: { 'kubegate-approval': bobs }, timeoutMs: HELD_MS });
      await sleep(200);
      expect(await rv(p), `answered ${r.status}: the rejected change ran`).toBe(before);
      // and the API will not take an approval for the rejected request
      const late = await postApproval(
        await signToken('bob', { fingerprints: [pend.fingerprint], requestIds: [pend.id] }),
      );
      // refused: 404 (nothing pending) or 409 (the fingerprint's new pending request is another id)
      expect([404, 409]).toContain(late.status);
    });

    it('after a revoke, the stored approval no longer runs the request', async () => {
      await configMap(n, 'revoked');
      const p = `/api/v1/namespaces/${n}/configmaps/revoked`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/revoked`);
      expect(
        (
          await postApproval(
            await signToken('alice', { fingerprints: [pend.fingerprint], requestIds: [pend.id] }),
          )
        ).status,
      ).toBe(201);
      const rv1 = await postApproval(
        await signToken('alice', { action: 'revoke', requestIds: [pend.id] }),
        `/kubegate/v1/requests/${pend.id}/revoke`,
      );
      expect(rv1.status).toBe(200);
      expect(rv1.json.revoked).toBe(1);
      const before = await rv(p);
      const r = await gate(p, { ...patch, timeoutMs: HELD_MS });
      expect(r.timedOut || r.status === 403).toBe(true);
      await sleep(200);
      expect(await rv(p)).toBe(before);
    });

    it('after a revoke, a header token signed before the revoke does not run the request', async () => {
      await configMap(n, 'revoked2');
      const p = `/api/v1/namespaces/${n}/configmaps/revoked2`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/revoked2`);
      const bobs = await signToken('bob', { fingerprints: [pend.fingerprint], requestIds: [pend.id] });
      expect(
        (
          await postApproval(
            await signToken('alice', { fingerprints: [pend.fingerprint], requestIds: [pend.id] }),
          )
        ).status,
      ).toBe(201);
      await sleep(1100);
      expect(
        (
          await postApproval(
            await signToken('alice', { action: 'revoke', requestIds: [pend.id] }),
            `/kubegate/v1/requests/${pend.id}/revoke`,
          )
        ).status,
      ).toBe(200);
      const before = await rv(p);
      const r = await gate(p, { ...patch, headers: { 'kubegate-approval': bobs }, timeoutMs: HELD_MS });
      await sleep(200);
      expect(await rv(p), `answered ${r.status}: the revoked change ran on an older token`).toBe(before);
    });

    it('(bypass round 14, open until session 12) an approver clock 20 s ahead keeps no token alive past a revoke', async () => {
      await configMap(n, 'skewed');
      const p = `/api/v1/namespaces/${n}/configmaps/skewed`;
      await gate(p, { ...patch, timeoutMs: HELD_MS });
      const pend = await waitPending(`${n}/configmaps/skewed`);
      const show = async () =>
        (
          await gate(`/kubegate/v1/requests/${pend.id}`, {
            as: null,
            token: await signToken('alice', { action: 'read', exp: 60 }),
          })
        ).json as { withdrawn_at: number };
      const shown = (await show()).withdrawn_at;
      // bob's clock runs 20 s ahead: his tokens say they were signed 20 s from now
      const bobAhead = (extra: Record<string, unknown>) =>
        signToken('bob', {
          fingerprints: [pend.fingerprint],
          requestIds: [pend.id],
          iat: 20,
          extra: { signedAt: (Math.floor(Date.now() / 1000) + 20) * 1000, ...extra },
        });
      const early = [await bobAhead({ withdrawals: [shown] }), await bobAhead({})];
      const revoke = await postApproval(
        await signToken('alice', { action: 'revoke', requestIds: [pend.id] }),
        `/kubegate/v1/requests/${pend.id}/revoke`,
      );
      expect(revoke.status).toBe(200);
      const before = await rv(p);
      for (const token of early) {
        const posted = await postApproval(token);
        expect(posted.status, posted.body.slice(0, 300)).toBe(409);
        expect(posted.json.message).toMatch(/signed before the request was rejected, revoked or run/);
        const sent = await gate(p, { ...patch, headers: { 'kubegate-approval': token }, timeoutMs: HELD_MS });
        expect(sent.status).toBe(403);
      }
      expect(await rv(p)).toBe(before);
      // read again, the request shows the revoke; an approval naming it counts, whatever bob's clock
      const after = (await show()).withdrawn_at;
      expect(after).toBeGreaterThan(shown);
      expect((await postApproval(await bobAhead({ withdrawals: [after] }))).status).toBe(201);
    });

    it('tampered pending ids: approval naming another id, reject/revoke naming another id', async () => {
      const wrongId = await postApproval(
        await signToken('alice', { fingerprints: [fp], requestIds: ['req-20990101-deadbeef00'] }),
      );
      expect(wrongId.status).toBe(409);
      const other = 'req-20990101-deadbeef00';
      const rej = await postApproval(
        await signToken('alice', { action: 'reject', requestIds: [other], reason: 'x' }),
        `/kubegate/v1/requests/${id}/reject`,
      );
      expect(rej.status).toBe(409);
      const rej2 = await postApproval(
        await signToken('alice', { action: 'reject', requestIds: [id], reason: 'x' }),
        `/kubegate/v1/requests/${other}/reject`,
      );
      expect(rej2.status).toBe(409);
      const rvk = await postApproval(
        await signToken('alice', { action: 'revoke', requestIds: [other] }),
        `/kubegate/v1/requests/${id}/revoke`,
      );
      expect(rvk.status).toBe(409);
      const enc = await postApproval(
        await signToken('alice', { action: 'reject', requestIds: [`${id}/../x`], reason: 'x' }),
        `/kubegate/v1/requests/${encodeURIComponent(`${id}/../x`)}/reject`,
      );
      expect(enc.status).toBeGreaterThanOrEqual(400);
      const d = await gate(`/kubegate/v1/requests/${id}`, {
        as: null,
        token: await signToken('bob', { action: 'read', exp: 60 }),
      });
      expect(d.json.status).toBe('pending');
      expect(d.json.approvals).toEqual([]);
      expect((await live(cm())).data).toEqual({ a: '1' });
    });
  });

  // FINDING: the approval API serves the live object kubegate fetched with the requester's rights
  // (pending detail.oldObject, snapshot.before) unredacted: approvers, who have only `view` upstream,
  // read Secret data through kubegate as soon as anyone asks to change that Secret.
  it('the approval API does not hand Secret data to approvers who cannot read Secrets upstream', async () => {
    await adminCreate(`/api/v1/namespaces/${n}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'leak' },
      stringData: { pw: 'TOPSECRET-123' },
    });
    const p = `/api/v1/namespaces/${n}/secrets/leak`;
    await gate(p, {
      method: 'PATCH',
      body: { metadata: { labels: { touch: 'me' } } },
      contentType: 'application/merge-patch+json',
      timeoutMs: HELD_MS,
    });
    expect((await gate(p, { as: 'alice' })).status, 'alice can read Secrets upstream: the test is moot').toBe(
      403,
    );
    const read = await signToken('alice', { action: 'read', exp: 60 });
    const pend = (await pendingList()).filter((x) => x.target === `${n}/secrets/leak`).pop();
    const d = await gate(`/kubegate/v1/requests/${pend.id}`, { as: null, token: read });
    expect(d.status).toBe(200);
    const secret = Buffer.from('TOPSECRET-123').toString('base64');
    expect(
      d.body.includes(secret) || d.body.includes('TOPSECRET-123'),
      'Secret data served by the approval API',
    ).toBe(false);
  });
});
