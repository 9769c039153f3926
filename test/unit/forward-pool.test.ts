import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newContext, type With } from '../../src/chain/context.js';
import { createForwarder, type Outcome } from '../../src/chain/forward.js';
import { ClientGone } from '../../src/client-gone.js';
import { parseRequest } from '../../src/kube/request.js';
import { closeUpstream, type Upstream, upstreamPool } from '../../src/upstream.js';
import { readPassingAudit } from './fake-audit.js';
import { testCluster } from './fake-cluster.js';
import { selfSigned } from './self-signed.js';

/** What reached the upstream: request line, headers, body bytes. */
interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

const CM = '/api/v1/namespaces/default/configmaps';
const BIG = 32 * 1024 * 1024;
let key: Buffer;
let cert: Buffer;
let seen: Seen[] = [];
/** Upstream requests whose connection closed before they were answered (the proxy cancelled them). */
let cancelled: string[] = [];
/** Bytes of the big answer the upstream managed to send so far. */
let bigSent = 0;
/** What the forwarder said of each request's outcome (what the audit records), by path. */
let outcomes = new Map<string, Outcome>();
/**
 * A Warning longer than Node's and undici's default 16 KiB answer head: an apiserver echoing an
 * unknown field's name, its UTF-8 bytes as they arrive (read as latin1, relayed as bytes).
 */
const LONG_WARNING = Buffer.from(`299 - "unknown field \\"${'\u{1F600}'.repeat(6000)}\\""`).toString(
  'latin1',
);

beforeAll(() => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kg-fwd-pool-'));
  ({ key, cert } = selfSigned(d, 'serving', '127.0.0.1'));
});

/** A big answer, written only as fast as the reader takes it. */
function writeBig(res: http.ServerResponse): void {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(BIG) });
  const more = () => {
    while (bigSent < BIG) {
      bigSent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', more);
    }
    res.end();
  };
  more();
}

/** The "apiserver": some paths hang, drop the connection, stream a watch or a big answer. */
function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse) {
  let bodyBytes = 0;
  req.on('data', (c: Buffer) => {
    bodyBytes += c.length;
  });
  req.on('end', () => {
    const url = req.url ?? '';
    seen.push({ url, headers: req.headers, bodyBytes });
    if (url.endsWith('/drop')) return void req.socket.destroy();
    if (url.endsWith('/hang')) return void res.once('close', () => cancelled.push(url));
    if (url.endsWith('/big')) return writeBig(res);
    if (url.endsWith('/long-warning'))
      return void res.writeHead(201, { 'content-type': 'application/json', warning: LONG_WARNING }).end('{}');
    if (url.includes('watch=1'))
      return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    res.writeHead(200, [
      ['content-type', 'application/json'],
      ['warning', '299 - "upstream one"'],
      ['warning', '299 - "upstream two"'],
    ]);
    res.end(JSON.stringify({ ok: true }));
  });
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
  seen = [];
  cancelled = [];
  bigSent = 0;
  outcomes = new Map();
});

function upstreamAt(url: URL): Upstream {
  return {
    url,
    agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
    pool: upstreamPool(url.origin, { rejectUnauthorized: false }),
    ownAuthorization: () => undefined,
  };
}

/** The fake apiserver (or, with `down`, an address nothing listens on) and kubegate's forwarder before it. */
async function setup(down = false): Promise<number> {
  const server = https.createServer({ key, cert }, upstreamHandler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  if (down) await new Promise((r) => server.close(r));
  const upstream = upstreamAt(url);
  const audit = readPassingAudit();
  const fwd = createForwarder(upstream, () => undefined);
  const front = http.createServer((req, res) => {
    const gone = new ClientGone();
    res.once('close', gone.left);
    const ctx = newContext({
      origin: 'client',
      cluster: testCluster('kubegate', { upstream }),
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
    void fwd
      .web(audit.passRead(ctx), ctx as With<'caller' | 'req'>, res)
      .then((o) => outcomes.set(req.url ?? '', o));
  });
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  cleanup.push(() => {
    closeUpstream(upstream);
    front.closeAllConnections();
    front.close();
    server.closeAllConnections();
    server.close();
  });
  return (front.address() as AddressInfo).port;
}

function get(port: number, p: string, headers: http.OutgoingHttpHeaders = {}, body?: string) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        { port, host: '127.0.0.1', path: p, headers, agent: false, maxHeaderSize: 1 << 20 },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    },
  );
}

const until = async (f: () => boolean) => {
  while (!f()) await new Promise((r) => setTimeout(r, 5));
};

describe('requests over the upstream pool', () => {
  it('carry the caller credentials and kubegate request id, not the client hop headers', async () => {
    const port = await setup();
    const headers = {
      authorization: 'Bearer client-sent',
      'audit-id': 'client-chosen',
      connection: 'keep-alive, x-custom',
      'keep-alive': 'timeout=5',
      te: 'trailers',
      'kubegate-approval': 'tok',
      'impersonate-user': 'admin',
      'x-custom': 'kept',
    };
    const r = await get(port, `${CM}/x?resourceVersion=0`, headers);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ ok: true });
    const [s] = seen;
    expect(s?.url).toBe(`${CM}/x?resourceVersion=0`);
    expect(s?.headers.authorization).toBe('Bearer caller');
    expect(s?.headers['audit-id']).toMatch(/^req-/);
    expect(s?.headers.host).toBe(`127.0.0.1:${new URL(`https://${s?.headers.host}`).port}`);
    for (const h of ['keep-alive', 'te', 'kubegate-approval', 'impersonate-user', 'transfer-encoding'])
      expect(s?.headers[h]).toBeUndefined();
    expect(s?.headers.connection ?? 'keep-alive').toBe('keep-alive');
    expect(s?.headers['x-custom']).toBe('kept');
  });

  it("relay every upstream Warning line, and kubegate's own", async () => {
    const port = await setup();
    const r = await get(port, `${CM}/x`);
    expect(r.headers.warning).toBe('299 - "kubegate", 299 - "upstream one", 299 - "upstream two"');
  });

  it('send no body with a read, whatever the client sent', async () => {
    const port = await setup();
    const r = await get(port, `${CM}/x`, { 'content-length': '5' }, 'hello');
    expect(r.status).toBe(200);
    expect(seen[0]?.bodyBytes).toBe(0);
    expect(seen[0]?.headers['content-length']).toBeUndefined();
  });

  it('give a watch its headers before its first event', async () => {
    const port = await setup();
    const req = http.get({ port, host: '127.0.0.1', path: `${CM}?watch=1`, agent: false });
    req.on('error', () => undefined);
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(res.statusCode).toBe(200);
    req.destroy();
  });

  it('answer a 502 Status when the upstream drops the request, send it once, and call its outcome unknown', async () => {
    const port = await setup();
    const r = await get(port, `${CM}/drop`);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ kind: 'Status', code: 502, reason: 'ServiceUnavailable' });
    expect(JSON.parse(r.body).message).toMatch(/answer could not be read: /);
    expect(seen).toHaveLength(1);
    // kubegate's own 502 is not the upstream's answer (round 19: an applied change recorded as failed)
    await until(() => outcomes.has(`${CM}/drop`));
    expect(outcomes.get(`${CM}/drop`)).toMatchObject({
      status: 0,
      error: expect.stringMatching(/could not be read/),
    });
  });

  it('answer a 502 Status when the upstream is unreachable (nothing was sent)', async () => {
    const port = await setup(true);
    const r = await get(port, `${CM}/x`);
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body).message).toMatch(/upstream API server unreachable/);
    await until(() => outcomes.has(`${CM}/x`));
    expect(outcomes.get(`${CM}/x`)?.status).toBe(502);
  });

  it('read an answer whose head is over 16 KiB (long Warnings), as client-go would', async () => {
    const port = await setup();
    const r = await get(port, `${CM}/long-warning`);
    expect(r.status).toBe(201);
    expect(String(r.headers.warning)).toContain(LONG_WARNING);
    await until(() => outcomes.has(`${CM}/long-warning`));
    expect(outcomes.get(`${CM}/long-warning`)?.status).toBe(201);
  });

  it('cancel the upstream request when the client leaves', async () => {
    const port = await setup();
    const req = http.get({ port, host: '127.0.0.1', path: `${CM}/hang`, agent: false });
    req.on('error', () => undefined);
    await until(() => seen.length > 0);
    req.destroy();
    await until(() => cancelled.length > 0);
    expect(cancelled).toEqual([`${CM}/hang`]);
  });

  it('read a big answer only as fast as the client takes it', async () => {
    const port = await setup();
    const req = http.get({ port, host: '127.0.0.1', path: `${CM}/big`, agent: false });
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    res.pause();
    await new Promise((r) => setTimeout(r, 500));
    // socket buffers on both hops hold a few MB; without back-pressure all 32 MB would be read
    expect(bigSent).toBeLessThan(BIG / 2);
    let got = 0;
    res.on('data', (c: Buffer) => {
      got += c.length;
    });
    res.resume();
    await once(res, 'end');
    expect(got).toBe(BIG);
  });
});
