import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newContext, type With } from '../../src/chain/context.js';
import { createForwarder, type Forwarder } from '../../src/chain/forward.js';
import { ClientGone } from '../../src/client-gone.js';
import { parseRequest } from '../../src/kube/request.js';
import type { Upstream } from '../../src/upstream.js';
import { H2Sessions } from '../../src/upstream-h2.js';
import { readPassingAudit } from './fake-audit.js';
import { testCluster } from './fake-cluster.js';
import { selfSigned } from './self-signed.js';

/** What reached the upstream: protocol, request line, headers, session, body bytes. */
interface Seen {
  version: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  session?: http2.Http2Session;
  bodyBytes: number;
}

const CM = '/api/v1/namespaces/default/configmaps';
let key: Buffer;
let cert: Buffer;
let seen: Seen[] = [];
/** Upstream streams that ended before answering (the proxy cancelled them). */
let cancelled: string[] = [];
let h2Sessions: http2.ServerHttp2Session[] = [];

beforeAll(() => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kg-fwd-h2-'));
  ({ key, cert } = selfSigned(d, 'serving', '127.0.0.1'));
});

/** The "apiserver": HTTP/2 and HTTP/1.1; some paths refuse, reset or never answer over HTTP/2. */
function upstreamHandler(
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) {
  const s = req instanceof http2.Http2ServerRequest ? req.stream : undefined;
  let bodyBytes = 0;
  req.on('data', (c: Buffer) => {
    bodyBytes += c.length;
  });
  req.on('end', () => {
    seen.push({
      version: req.httpVersion,
      url: req.url ?? '',
      headers: req.headers,
      session: s?.session,
      bodyBytes,
    });
    if (s && req.url?.endsWith('/refuse')) return void s.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    if (s && req.url?.endsWith('/reset')) return void s.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    if (req.url?.endsWith('/hang')) return void res.once('close', () => cancelled.push(req.url ?? ''));
    res.writeHead(200, { 'content-type': 'application/json', warning: '299 - "upstream"' });
    res.end(JSON.stringify({ via: req.httpVersion }));
  });
}

async function startUpstream(h2: boolean, settings: http2.Settings = {}) {
  const server = h2
    ? http2.createSecureServer({ key, cert, allowHTTP1: true, settings }, upstreamHandler)
    : https.createServer({ key, cert }, upstreamHandler);
  if (h2) server.on('session', (s: http2.ServerHttp2Session) => h2Sessions.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const upstream: Upstream = {
    url: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`),
    agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
    ownAuthorization: () => undefined,
  };
  return { server, upstream };
}

/** kubegate's forwarder behind a plain HTTP front, each request a read the audit stage passed. */
async function startFront(upstream: Upstream, sessions: H2Sessions) {
  const audit = readPassingAudit();
  const fwd: Forwarder = createForwarder(upstream, () => undefined, undefined, sessions);
  const front = http.createServer((req, res) => {
    const gone = new ClientGone();
    res.once('close', gone.left);
    const cluster = testCluster('kubegate', { upstream });
    const ctx = newContext({
      origin: 'client',
      cluster,
      kr: parseRequest(req),
      req,
      headers: req.headers,
      signal: gone,
      holdMs: 0,
    });
    ctx.responseHeaders.warning = '299 - "kubegate"';
    ctx.caller = {
      user: { username: 'agent', uid: '', groups: [], extra: {} },
      credentials: { authorization: 'Bearer caller' },
    };
    void fwd.web(audit.passRead(ctx), ctx as With<'caller' | 'req'>, res);
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  return { front, port: (front.address() as AddressInfo).port };
}

function get(port: number, p: string, headers: http.OutgoingHttpHeaders = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request({ port, host: '127.0.0.1', path: p, headers, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
  seen = [];
  cancelled = [];
  h2Sessions = [];
});
afterAll(() => undefined);

async function setup(h2 = true, settings: http2.Settings = {}) {
  const { server, upstream } = await startUpstream(h2, settings);
  const sessions = new H2Sessions(upstream);
  const { front, port } = await startFront(upstream, sessions);
  cleanup.push(() => {
    sessions.close();
    upstream.agent.destroy();
    front.close();
    front.closeAllConnections();
    server.close();
  });
  return { sessions, port };
}

describe('reads over an upstream HTTP/2 session', () => {
  it('go over HTTP/2 once a session is connected, with the same header rules as HTTP/1.1', async () => {
    const { sessions, port } = await setup();
    expect(await sessions.warm()).toBe(true);
    const headers = {
      authorization: 'Bearer client-sent',
      'audit-id': 'client-chosen',
      connection: 'keep-alive, x-custom',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'kubegate-approval': 'tok',
      'x-custom': 'kept',
    };
    const r = await get(port, `${CM}/x?resourceVersion=0`, headers);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ via: '2.0' });
    // kubegate's Warning joins the upstream's
    expect(r.headers.warning).toEqual(expect.stringContaining('kubegate'));
    expect(r.headers.warning).toEqual(expect.stringContaining('upstream'));
    const [s] = seen;
    expect(s?.url).toBe(`${CM}/x?resourceVersion=0`);
    expect(s?.bodyBytes).toBe(0);
    expect(s?.headers.authorization).toBe('Bearer caller');
    expect(s?.headers['audit-id']).toMatch(/^req-/);
    expect(s?.headers[':authority']).toBe(`127.0.0.1:${new URL(`https://${s?.headers[':authority']}`).port}`);
    for (const h of ['connection', 'keep-alive', 'te', 'kubegate-approval', 'host', 'transfer-encoding'])
      expect(s?.headers[h]).toBeUndefined();
    expect(s?.headers['x-custom']).toBe('kept');
    // one session carries many callers: nghttp2 sends a token never-indexed (HPACK), so no
    // shared compression state holds it and no other request's size depends on it
    expect((s?.headers as Record<symbol, unknown>)[http2.sensitiveHeaders]).toEqual(['authorization']);
  });

  it('go over HTTP/1.1 while no session is connected, and to an upstream without h2', async () => {
    const { sessions, port } = await setup(false);
    const r = await get(port, `${CM}/x`);
    expect(JSON.parse(r.body)).toEqual({ via: '1.1' });
    expect(await sessions.warm()).toBe(false);
    expect(JSON.parse((await get(port, `${CM}/x`)).body)).toEqual({ via: '1.1' });
  });

  it('keep watches on HTTP/1.1', async () => {
    const { sessions, port } = await setup();
    await sessions.warm();
    const req = http.get({ port, host: '127.0.0.1', path: `${CM}?watch=1&x=hang`, agent: false });
    req.on('error', () => undefined);
    while (seen.length === 0) await new Promise((r) => setImmediate(r));
    expect(seen[0]?.version).toBe('1.1');
    req.destroy();
  });

  it('a stream the upstream refused unprocessed is sent again over HTTP/1.1, once', async () => {
    const { sessions, port } = await setup();
    await sessions.warm();
    const r = await get(port, `${CM}/refuse`);
    expect(r.status).toBe(200);
    expect(seen.map((s) => s.version)).toEqual(['2.0', '1.1']);
  });

  it('a stream reset after it was sent gets a 502 Status and is not sent again', async () => {
    const { sessions, port } = await setup();
    await sessions.warm();
    const r = await get(port, `${CM}/reset`);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: 502 });
    expect(seen).toHaveLength(1);
  });

  it('after a GOAWAY, the next reads open a new session', async () => {
    const { sessions, port } = await setup();
    await sessions.warm();
    await get(port, `${CM}/x`);
    const first = seen[0]?.session;
    first?.goaway(http2.constants.NGHTTP2_NO_ERROR);
    while (sessions.size > 0) await new Promise((r) => setImmediate(r));
    // the read right after goes over HTTP/1.1 while a new session connects; none fails
    expect((await get(port, `${CM}/x`)).status).toBe(200);
    expect(await sessions.warm()).toBe(true);
    const r = await get(port, `${CM}/x`);
    expect(JSON.parse(r.body)).toEqual({ via: '2.0' });
    expect(seen.at(-1)?.session).not.toBe(first);
  });

  it('the client leaving cancels the upstream stream', async () => {
    const { sessions, port } = await setup();
    await sessions.warm();
    const req = http.get({ port, host: '127.0.0.1', path: `${CM}/hang`, agent: false });
    req.on('error', () => undefined);
    while (seen.length === 0) await new Promise((r) => setImmediate(r));
    expect(seen[0]?.version).toBe('2.0');
    req.destroy();
    while (cancelled.length === 0) await new Promise((r) => setImmediate(r));
    expect(cancelled).toEqual([`${CM}/hang`]);
  });

  it("respects the upstream's concurrent stream limit: a second session once the first is full", async () => {
    const { server, upstream } = await startUpstream(true, { maxConcurrentStreams: 1 });
    const sessions = new H2Sessions(upstream);
    cleanup.push(() => {
      sessions.close();
      server.close();
    });
    await sessions.warm();
    const req = (p: string) => {
      const s = sessions.request({
        ':method': 'GET',
        ':path': `${CM}/${p}`,
        ':authority': upstream.url.host,
      });
      s?.on('error', () => undefined);
      return s;
    };
    const first = req('hang');
    while (seen.length === 0) await new Promise((r) => setImmediate(r));
    // the only session is at its limit: no stream beyond it (HTTP/1.1 for this one), and a
    // second session opens
    expect(req('x')).toBeUndefined();
    expect(await sessions.warm()).toBe(true);
    expect(sessions.size).toBe(2);
    const second = req('y');
    expect(second?.session).not.toBe(first?.session);
    await once(second as http2.ClientHttp2Stream, 'response');
    expect(seen.map((s) => s.url)).toEqual([`${CM}/hang`, `${CM}/y`]);
    first?.close(http2.constants.NGHTTP2_CANCEL);
  });

  it('a full pool sends over HTTP/1.1 instead of queueing a stream', async () => {
    const { server, upstream } = await startUpstream(true, { maxConcurrentStreams: 1 });
    const sessions = new H2Sessions(upstream, 1);
    cleanup.push(() => {
      sessions.close();
      server.close();
    });
    await sessions.warm();
    const headers = { ':method': 'GET', ':path': `${CM}/hang`, ':authority': upstream.url.host };
    const first = sessions.request(headers);
    first?.on('error', () => undefined);
    expect(first).toBeDefined();
    expect(sessions.request(headers)).toBeUndefined();
    expect(sessions.size).toBe(1);
    first?.close(http2.constants.NGHTTP2_CANCEL);
  });
});
