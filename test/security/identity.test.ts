import { beforeAll, describe, expect, it } from 'vitest';
import {
  configMap,
  direct,
  forwardedSince,
  gate,
  HELD_MS,
  lastSeq,
  ns,
  pwnedPatch,
  rawStatus,
  rawTls,
  rv,
  since,
  sleep,
  stoppedSince,
  tokenOf,
} from './helpers.js';

/**
 * Identity: who the requester is comes from the upstream (SelfSubjectReview with
 * the caller's own credentials), never from anything the client claims.
 */
describe('identity attacks', () => {
  let n: string;
  const cm = () => `/api/v1/namespaces/${n}/configmaps/victim`;
  const patch = pwnedPatch;

  beforeAll(async () => {
    n = await ns('ident');
    await configMap(n, 'victim');
  });

  it('anonymous caller (no Authorization) gets 401 on a mutation, object unchanged, refusal not forwarded', async () => {
    const before = await rv(cm());
    const seq = lastSeq();
    const r = await gate(cm(), { ...patch, as: null });
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect(await rv(cm())).toBe(before);
    expect(forwardedSince(seq, `${n}/configmaps/victim`)).toEqual([]);
  });

  it('anonymous delete and create are refused too', async () => {
    const seq = lastSeq();
    const del = await gate(cm(), { method: 'DELETE', as: null });
    expect(del.status).toBe(401);
    const create = await gate(`/api/v1/namespaces/${n}/configmaps`, {
      method: 'POST',
      as: null,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'anon' } },
    });
    expect(create.status).toBe(401);
    expect(await rv(cm())).toBeDefined();
    expect(await rv(`/api/v1/namespaces/${n}/configmaps/anon`)).toBeUndefined();
    expect(forwardedSince(seq, n)).toEqual([]);
  });

  it('a bad bearer token gets 401 (mutation and read), object unchanged', async () => {
    const before = await rv(cm());
    const m = await gate(cm(), { ...patch, token: 'not-a-real-token' });
    expect(m.status).toBe(401);
    expect(m.json).toMatchObject({ kind: 'Status', code: 401 });
    const r = await gate(`/api/v1/namespaces/${n}/configmaps`, { token: 'not-a-real-token' });
    expect(r.status).toBe(401);
    const basic = await gate(cm(), {
      ...patch,
      as: null,
      headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
    });
    // a credential the apiserver ignores makes the caller anonymous upstream: still refused
    expect([401, 403]).toContain(basic.status);
    expect(basic.json).toMatchObject({ kind: 'Status', status: 'Failure' });
    expect(await rv(cm())).toBe(before);
  });

  it('forged identity headers (X-Remote-User/Group, X-Forwarded-User) do not make an anonymous caller anyone', async () => {
    const before = await rv(cm());
    const r = await gate(cm(), {
      ...patch,
      as: null,
      headers: {
        'x-remote-user': 'admin',
        'x-remote-group': 'system:masters',
        'x-remote-extra-scopes': 'all',
        'x-forwarded-user': 'admin',
        'x-forwarded-groups': 'system:masters',
      },
    });
    expect(r.status).toBe(401);
    expect(await rv(cm())).toBe(before);
  });

  it('forged identity headers next to a real token: the decision names the real user (agent), not the forged one', async () => {
    const before = await rv(cm());
    const seq = lastSeq();
    const r = await gate(cm(), {
      ...patch,
      headers: { 'x-remote-user': 'alice', 'x-remote-group': 'kubegate:approvers' },
      timeoutMs: HELD_MS,
    });
    // held (or refused) — never forwarded without approval
    expect(r.timedOut || r.status === 403).toBe(true);
    await sleep(300);
    const stopped = stoppedSince(seq, `${n}/configmaps/victim`);
    expect(stopped.length).toBeGreaterThan(0);
    expect(stopped.every((s) => s.user === 'agent')).toBe(true);
    expect(since(seq).some((s) => s.user === 'alice' || s.user === 'admin')).toBe(false);
    expect(await rv(cm())).toBe(before);
  });

  it('the upstream still rejects X-Remote-User sent through kubegate (no front-proxy trust)', async () => {
    // read as anonymous with forged headers: the apiserver must see system:anonymous
    const r = await gate('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      as: null,
      headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' },
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    // anonymous callers get no "create" at all from kubegate; if the apiserver answered, it must not be admin
    if (r.status === 201) expect(r.json.status.userInfo.username).not.toBe('admin');
    else expect(r.status).toBe(401);
    const who = await gate('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      headers: { 'x-remote-user': 'admin', 'x-remote-group': 'system:masters' },
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(who.status).toBe(201);
    expect(who.json.status.userInfo.username).toBe('agent');
  });

  describe('a bearer token in the WebSocket subprotocol (which the apiserver accepts) is a credential like Authorization', () => {
    const bearer = (token: string) =>
      `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`;
    // latin1: each char one byte, so a test can send the UTF-8 bytes of a Unicode space as they are
    const watch = (headers: string[]) =>
      rawTls(
        Buffer.from(
          [
            `GET /api/v1/namespaces/${n}/configmaps?watch=true HTTP/1.1\r\nHost: kubegate\r\n`,
            'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n',
            // the apiserver's WebSocket watch wants an Origin (403 without one)
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://localhost\r\n',
            ...headers.map((h) => `${h}\r\n`),
            '\r\n',
          ].join(''),
          'latin1',
        ),
        3000,
      );

    it('(bypass round 11) with Impersonate-User it is the agent that asks: denied, recorded as agent, not anonymous', async () => {
      const seq = lastSeq();
      const out = await watch([
        `Sec-WebSocket-Protocol: ${bearer(tokenOf('agent'))}, v4.channel.k8s.io`,
        'Impersonate-User: bob',
      ]);
      expect(rawStatus(out), out.slice(0, 300)).toBe(403);
      expect(out).toMatch(/agents may not use impersonation/);
      await sleep(300);
      const mine = since(seq).filter((r) => String(r.resource ?? '').startsWith(`${n}/`));
      expect(mine.length).toBeGreaterThan(0);
      expect(
        mine.every((r) => r.user === 'agent'),
        JSON.stringify(mine),
      ).toBe(true);
      expect(forwardedSince(seq, n)).toEqual([]);
    });

    it('alone it opens the WebSocket watch as its owner, answering with the other subprotocol', async () => {
      const out = await watch([`Sec-WebSocket-Protocol: ${bearer(tokenOf('agent'))}, v4.channel.k8s.io`]);
      expect(rawStatus(out), out.slice(0, 900)).toBe(101);
      expect(out).toMatch(/Sec-WebSocket-Protocol: v4\.channel\.k8s\.io\r\n/i);
    });

    it('(bypass round 12) a token behind a Unicode space the apiserver trims and trim() does not: 400, no watch', async () => {
      const seq = lastSeq();
      for (const space of ['\xc2\x85', '\xc2\xa0', '\xe3\x80\x80']) {
        const out = await watch([
          `Sec-WebSocket-Protocol: ${space}${bearer(tokenOf('agent'))}, v4.channel.k8s.io`,
        ]);
        expect(rawStatus(out), out.slice(0, 300)).toBe(400);
        expect(out).toMatch(/Sec-WebSocket-Protocol/);
      }
      expect(forwardedSince(seq, n)).toEqual([]);
    });

    it('next to an Authorization header, twice, undecodable or with no other subprotocol: 400, nothing forwarded', async () => {
      const seq = lastSeq();
      for (const headers of [
        [
          `Authorization: Bearer ${tokenOf('agent')}`,
          `Sec-WebSocket-Protocol: ${bearer(tokenOf('alice'))}, v4.channel.k8s.io`,
        ],
        [
          `Sec-WebSocket-Protocol: ${bearer(tokenOf('agent'))}, ${bearer(tokenOf('alice'))}, v4.channel.k8s.io`,
        ],
        ['Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.%%%, v4.channel.k8s.io'],
        [`Sec-WebSocket-Protocol: ${bearer(tokenOf('agent'))}`],
      ]) {
        const out = await watch(headers);
        expect(rawStatus(out), `${headers.join(' | ')}: ${out.slice(0, 300)}`).toBe(400);
        expect(out).toMatch(/Sec-WebSocket-Protocol/);
      }
      expect(forwardedSince(seq, n)).toEqual([]);
    });
  });

  it('sanity: the admin kubeconfig goes straight to the apiserver (the checks above are meaningful)', async () => {
    const who = await direct('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      method: 'POST',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    expect(who.json.status.userInfo.username).toBe('admin');
  });
});
