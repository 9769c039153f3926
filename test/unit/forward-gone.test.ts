import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/log.js';
import { RequestAudit } from '../../src/chain/audit.js';
import { newContext, type WebResponse, type With } from '../../src/chain/context.js';
import { createForwarder } from '../../src/chain/forward.js';
import { parseRequest } from '../../src/kube/request.js';
import { createMetrics } from '../../src/metrics.js';
import { closeUpstream, type Upstream } from '../../src/upstream.js';
import { readPassingAudit } from './fake-audit.js';
import { testCluster } from './fake-cluster.js';
import { selfSigned } from './self-signed.js';

/** A local HTTPS "apiserver" that counts what reaches it. */
let server: https.Server;
let seen: string[] = [];
/** Requests whose connection the upstream saw close (a watch it never answered). */
const closed: string[] = [];
let upstream: Upstream;

beforeAll(async () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'kg-fwd-'));
  const { key, cert } = selfSigned(d, 'serving', '127.0.0.1');
  server = https.createServer({ key, cert }, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    // a watch stays open with nothing to say: only the client side can end it
    if (req.url?.includes('watch=1')) req.on('close', () => closed.push(req.url ?? ''));
    // a change the apiserver takes a while to answer (an admission webhook, etcd under load)
    else if (req.url?.includes('slow=1')) setTimeout(() => res.writeHead(201).end('{}'), 300);
    else res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  upstream = {
    url,
    agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
    pool: new Pool(url.origin, { connect: { rejectUnauthorized: false } }),
    ownAuthorization: () => undefined,
  };
});

afterAll(() => {
  closeUpstream(upstream);
  server.close();
});

function readContext(
  abort: AbortController,
  method = 'GET',
  url = '/api/v1/namespaces/default/configmaps?watch=1',
) {
  const req = Object.assign(new PassThrough(), { headers: {} });
  const ctx = newContext({
    origin: 'client',
    cluster: testCluster(),
    kr: parseRequest({ method, url, headers: {}, rawHeaders: [] }),
    req: req as never,
    headers: {},
    signal: abort.signal,
    holdMs: 0,
  });
  ctx.caller = {
    user: { username: 'agent', uid: '', groups: [], extra: {} },
    credentials: { authorization: 'Bearer t' },
  };
  return ctx as With<'caller' | 'req'>;
}

/** A read's receipt comes from the audit stage; the forwarder is the one kubegate uses. */
function forwarding() {
  const audit = readPassingAudit();
  return { audit, fwd: createForwarder(upstream, () => undefined) };
}

describe('a read whose client already left', () => {
  it('sends nothing upstream and leaves no pooled socket busy', async () => {
    seen = [];
    const { audit, fwd } = forwarding();
    const abort = new AbortController();
    const ctx = readContext(abort);
    const res = new PassThrough();
    abort.abort(new Error('the client went away'));
    res.destroy();
    const outcome = await fwd.web(audit.passRead(ctx), ctx, res as unknown as WebResponse);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
    expect(outcome.status).toBe(0);
  });

  it('a client leaving mid-watch ends the upstream request too', async () => {
    seen = [];
    const { audit, fwd } = forwarding();
    const abort = new AbortController();
    const ctx = readContext(abort);
    const res = Object.assign(new PassThrough(), { writeHead: () => undefined, headersSent: false });
    const outcome = fwd.web(audit.passRead(ctx), ctx, res as unknown as WebResponse);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toHaveLength(1);
    abort.abort(new Error('the client went away'));
    res.destroy();
    expect((await outcome).status).toBe(0);
  });

  it('an HTTP/2 client resetting its stream mid-forward leaves the outcome unknown, not a default 200 (bypass round 12)', async () => {
    const { audit, fwd } = forwarding();
    const abort = new AbortController();
    const ctx = readContext(abort);
    const res = Object.assign(new PassThrough(), {
      writeHead: () => undefined,
      headersSent: false,
      statusCode: 200,
    });
    const outcome = fwd.web(audit.passRead(ctx), ctx, res as unknown as WebResponse);
    await new Promise((r) => setTimeout(r, 200));
    // what Node's HTTP/2 compat response does on RST_STREAM: 'finish', then 'close', never ended
    res.emit('finish');
    res.emit('close');
    expect(await outcome).toMatchObject({ status: 0, error: expect.stringContaining('closed before') });
  });
});

describe('a change whose client leaves after it was sent', () => {
  it('is still awaited: its outcome is the upstream answer (it may have been applied), not unknown', async () => {
    seen = [];
    const log = { write: async () => undefined } as unknown as AuditLog;
    const audit = new RequestAudit(log, createMetrics({ defaultMetrics: false }), pino({ level: 'silent' }), {
      approvalDisabled: false,
      reads: 'none',
    });
    const fwd = createForwarder(upstream, () => undefined);
    const abort = new AbortController();
    const ctx = readContext(abort, 'POST', '/api/v1/namespaces/default/configmaps?slow=1');
    ctx.body = { forward: Buffer.from('{}'), object: {}, contentType: 'application/json' } as never;
    const res = Object.assign(new PassThrough(), { writeHead: () => undefined, headersSent: false });
    const outcome = fwd.web(await audit.writeAhead(ctx), ctx, res as unknown as WebResponse);
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['POST /api/v1/namespaces/default/configmaps?slow=1']);
    abort.abort(new Error('the client went away'));
    res.destroy();
    expect(await outcome).toEqual({ status: 201, error: 'the client left before the answer reached it' });
  });
});
