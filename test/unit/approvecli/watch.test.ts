// `approve-cli watch` against a fake kubegate on loopback http: the list, printed again on an SSE
// change event (debounced), a fresh read token after `expired`, a reconnect after a drop, a clean stop.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runApproveCli } from '../../../src/approvecli/run.js';
import { readEvents } from '../../../src/approvecli/sse.js';
import type { PendingView } from '../../../src/approvecli/types.js';
import { generateApproverKey } from '../../../src/wire/approver-key.js';
import { NOW, sink, tempDir, view } from './helpers.js';

let cleanup: () => Promise<void>;
let keyFile: string;
let server: http.Server;
let port: number;
/** What the fake kubegate holds, how often the list was read, and each watch connection. */
let items: PendingView[];
let listReads: number;
let streams: { token: string; res: http.ServerResponse }[];
let watchAnswer: ((res: http.ServerResponse) => void) | undefined;

function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/kubegate/v1/requests') {
    listReads++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items, freeze: { on: false } }));
  } else if (req.url === '/kubegate/v1/watch' && watchAnswer) {
    watchAnswer(res);
  } else if (req.url === '/kubegate/v1/watch') {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': watching pending requests\n\n');
    streams.push({ token: (req.headers.authorization ?? '').replace(/^Bearer /, ''), res });
  } else {
    res.writeHead(404).end();
  }
}

beforeEach(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir());
  keyFile = join(dir, 'alice.jwk');
  writeFileSync(keyFile, JSON.stringify((await generateApproverKey('alice')).privateJwk), { mode: 0o600 });
  items = [view({ id: 'req-1' })];
  listReads = 0;
  streams = [];
  watchAnswer = undefined;
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await cleanup();
});

function startWatch() {
  const stdout = sink();
  const stderr = sink();
  const stop = new AbortController();
  const done = runApproveCli(['watch'], {
    stdout,
    stderr,
    env: { KUBEGATE_URL: `http://127.0.0.1:${port}`, APPROVE_KEY: keyFile },
    now: () => NOW,
    signal: stop.signal,
  });
  return { stdout, stderr, stop: () => stop.abort(), done };
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const event = (id: string, what: string) => `event: request\ndata: ${JSON.stringify({ id, what })}\n\n`;
const renders = (text: string) => text.split('\n').filter((l) => l.startsWith('--- ')).length;

describe('approve-cli watch', () => {
  it('prints the list, prints it again on a change event, reconnects after expired and after a drop', async () => {
    const w = startWatch();
    await until('the first stream', () => streams.length === 1);
    expect(w.stdout.text()).toMatch(
      /^--- 2026-11-25T12:00:00.000Z: held requests \(Ctrl-C to stop\) ---\nID\s+AGE/,
    );
    expect(w.stdout.text()).toMatch(/req-1 .* pending/);
    await until('the resync after connecting', () => listReads === 2);
    expect(renders(w.stdout.text())).toBe(1); // the same list is not printed twice

    // two changes at once: one read of the list, one print naming both
    items = [view({ id: 'req-1', status: 'approved' }), view({ id: 'req-2' })];
    streams[0]!.res.write(event('req-1', 'approved') + event('req-2', 'held'));
    await until('the re-render', () => renders(w.stdout.text()) === 2);
    expect(w.stdout.text()).toContain(
      '--- 2026-11-25T12:00:00.000Z: req-1 approved, req-2 held (Ctrl-C to stop) ---',
    );
    expect(w.stdout.text()).toMatch(/req-1 .* approved .*\nreq-2 .* pending/);
    expect(listReads).toBe(3);

    // the read token expired: a new stream at once, with a new token
    streams[0]!.res.end('event: expired\ndata: {}\n\n');
    await until('the second stream', () => streams.length === 2);
    expect(decodeJwt(streams[1]!.token).jti).not.toBe(decodeJwt(streams[0]!.token).jti);
    expect(decodeJwt(streams[1]!.token).kubegate).toEqual({ action: 'read' });
    items = [view({ id: 'req-2' })];
    streams[1]!.res.write(event('req-1', 'executed'));
    await until('the render after reconnecting', () => renders(w.stdout.text()) === 3);
    expect(w.stdout.text()).toContain(': req-1 executed (Ctrl-C to stop) ---');

    // the connection drops: a reconnect after a short backoff, which says so
    streams[1]!.res.destroy();
    await until('the third stream', () => streams.length === 3);
    expect(w.stderr.text()).toMatch(/approve-cli watch: .*reconnecting\n/);

    w.stop();
    expect(await w.done).toBe(0);
  });

  it('stops with the refusal when kubegate refuses the watch itself', async () => {
    watchAnswer = (res) =>
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          code: 401,
          reason: 'Unauthorized',
          message: 'unknown signing key "alice-x"',
        }),
      );
    const w = startWatch();
    expect(await w.done).toBe(1);
    expect(w.stderr.text()).toBe(
      'approve-cli: kubegate refused (401 Unauthorized): unknown signing key "alice-x"\n',
    );
  });

  it('exits 1 when kubegate cannot be reached at the start', async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const w = startWatch();
    expect(await w.done).toBe(1);
    expect(w.stderr.text()).toMatch(/connection refused/);
  });
});

describe('readEvents', () => {
  async function* chunks(...parts: (string | Buffer)[]) {
    for (const p of parts) yield p;
  }

  it('reads events split anywhere, skips comments, joins data lines, takes CRLF', async () => {
    const euro = Buffer.from('data: €\n\n');
    const got = [];
    for await (const ev of readEvents(
      chunks(
        ': ping\n\nevent: req',
        'uest\ndata: {"id":"a"}\n',
        '\nevent: x\r\ndata: 1\r\ndata: 2\r\n\r\n',
        euro.subarray(0, 7),
        euro.subarray(7),
      ),
    ))
      got.push(ev);
    expect(got).toEqual([
      { event: 'request', data: '{"id":"a"}' },
      { event: 'x', data: '1\n2' },
      { event: 'message', data: '€' },
    ]);
  });
});
