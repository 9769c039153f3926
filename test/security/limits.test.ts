import type tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  configMap,
  gate,
  holdSeconds,
  live,
  ns,
  openTls,
  rawStatus,
  rawTls,
  sleep,
  tokenOf,
} from './helpers.js';

/** Limits: each refusal is a clear Status, and kubegate keeps serving everyone else. */
describe('limits', () => {
  let n: string;
  beforeAll(async () => {
    n = await ns('lim');
    await configMap(n, 'victim');
  });

  async function readLatencyMs(): Promise<number> {
    const t0 = performance.now();
    const r = await gate('/version');
    expect(r.status).toBe(200);
    return performance.now() - t0;
  }

  it('body over max_body_bytes (declared Content-Length): 413 Status before reading it, object unchanged', async () => {
    const out = await rawTls(
      `PATCH /api/v1/namespaces/${n}/configmaps/victim HTTP/1.1\r\nHost: kubegate\r\nAuthorization: Bearer ${tokenOf('agent')}\r\n` +
        `Content-Type: application/merge-patch+json\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n{"data":`,
      4000,
    );
    expect(rawStatus(out)).toBe(413);
    expect(out).toMatch(/"reason":"RequestEntityTooLarge"/);
    expect((await live(`/api/v1/namespaces/${n}/configmaps/victim`)).data).toEqual({ a: '1' });
    expect(await readLatencyMs()).toBeLessThan(2000);
  });

  it('headers just over the 64 KiB cap: 431 Status, kubegate keeps serving', async () => {
    const out = await rawTls(
      `GET /version HTTP/1.1\r\nHost: kubegate\r\nAuthorization: Bearer ${tokenOf('agent')}\r\nX-Big: ${'x'.repeat(66 * 1024)}\r\n\r\n`,
    );
    expect(rawStatus(out)).toBe(431);
    expect(out).toMatch(/"kind":"Status"/);
    expect(await readLatencyMs()).toBeLessThan(2000);
  });

  // Far past the cap the client is still writing when kubegate answers: kubegate sends the Status
  // first and closes only once the client went quiet, so the client reads a 431, not a reset.
  it('headers far over the cap (200 KiB, 1 MiB, or 4000 small headers): 431 Status, never forwarded, kubegate keeps serving', async () => {
    const many = Array.from({ length: 4000 }, (_, i) => `X-H${i}: ${'y'.repeat(20)}\r\n`).join('');
    const outs = [
      await rawTls(`GET /version HTTP/1.1\r\nHost: kubegate\r\nX-Big: ${'x'.repeat(200 * 1024)}\r\n\r\n`),
      await rawTls(`GET /version HTTP/1.1\r\nHost: kubegate\r\nX-Big: ${'x'.repeat(1024 * 1024)}\r\n\r\n`),
      await rawTls(`GET /version HTTP/1.1\r\nHost: kubegate\r\n${many}\r\n`),
    ];
    expect(await readLatencyMs()).toBeLessThan(2000);
    for (const o of outs) {
      expect(rawStatus(o)).toBe(431);
      expect(o).toMatch(/"kind":"Status"/);
      expect(o).not.toMatch(/gitVersion/);
    }
  });

  it('a huge Kubegate-Approval header list does not crash kubegate', async () => {
    const junk = Array.from({ length: 500 }, () => 'a.b.c').join(', ');
    const r = await gate(`/api/v1/namespaces/${n}/configmaps/victim`, {
      method: 'PATCH',
      body: { data: { a: 'pwned' } },
      contentType: 'application/merge-patch+json',
      headers: { 'kubegate-approval': junk },
    });
    expect(r.status).toBe(403);
    expect(r.json.message).toMatch(/approval refused/);
    expect((await live(`/api/v1/namespaces/${n}/configmaps/victim`)).data).toEqual({ a: '1' });
  });

  it('slowloris headers: 100 connections dribbling headers are cut off (408/close) and reads stay fast meanwhile', async () => {
    const sockets: tls.TLSSocket[] = [];
    const closedAt: number[] = [];
    const received: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) {
      const s = await openTls();
      const idx = sockets.length;
      received[idx] = '';
      s.on('data', (d: Buffer) => {
        received[idx] += d.toString('latin1');
      });
      s.on('close', () => {
        closedAt[idx] = Date.now() - t0;
      });
      s.on('error', () => undefined);
      s.write('GET /version HTTP/1.1\r\nHost: kubegate\r\n');
      sockets.push(s);
    }
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(`X-Drip-${Date.now()}: 1\r\n`);
    }, 5000);
    try {
      // others are served normally while the slow clients hang on
      for (let i = 0; i < 3; i++) {
        expect(await readLatencyMs()).toBeLessThan(2000);
        await sleep(1000);
      }
      // node's headersTimeout is 30 s, checked every 30 s: all must be gone within ~70 s
      const deadline = Date.now() + 75_000;
      while (
        Date.now() < deadline &&
        sockets.some((s) => !s.destroyed && closedAt[sockets.indexOf(s)] === undefined)
      )
        await sleep(1000);
      const open = sockets.filter((_, i) => closedAt[i] === undefined).length;
      expect(open, 'slow-header connections never cut off').toBe(0);
      expect(received.filter((r) => r && rawStatus(r) !== 408 && rawStatus(r) !== 400)).toEqual([]);
      expect(await readLatencyMs()).toBeLessThan(2000);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
  }, 120_000);

  // requestTimeout is 0 (held requests and watches are long), so only readBody's own timer bounds how
  // long a client may take to send a mutation's body (found by this suite; fixed in e0b64ac).
  it('slow body: a mutation whose body trickles in forever is cut off with a Status', async () => {
    const s = await openTls();
    let got = '';
    let closed = false;
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    s.on('close', () => {
      closed = true;
    });
    s.on('error', () => undefined);
    s.write(
      `PATCH /api/v1/namespaces/${n}/configmaps/victim HTTP/1.1\r\nHost: kubegate\r\nAuthorization: Bearer ${tokenOf('agent')}\r\n` +
        `Content-Type: application/merge-patch+json\r\nContent-Length: 100000\r\n\r\n{"data":{"a":"`,
    );
    const drip = setInterval(() => {
      if (!s.destroyed) s.write('x');
    }, 5000);
    try {
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline && !closed && !got) await sleep(1000);
      expect(closed || got !== '', 'a slow-body mutation kept its connection for 90 s with no answer').toBe(
        true,
      );
      if (got) expect([400, 408, 413]).toContain(rawStatus(got));
    } finally {
      clearInterval(drip);
      s.destroy();
    }
    expect((await live(`/api/v1/namespaces/${n}/configmaps/victim`)).data).toEqual({ a: '1' });
  }, 120_000);

  it('a flood of 60 distinct held mutations: each gets a Status (held → 403), reads stay fast, nothing changes', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `flood-${i}`);
    for (const name of names.slice(0, 5)) await configMap(n, name);
    const started = Date.now();
    const flood = Promise.all(
      names.map((name) =>
        gate(`/api/v1/namespaces/${n}/configmaps/${name}`, {
          method: 'PATCH',
          body: { data: { a: 'pwned' } },
          contentType: 'application/merge-patch+json',
          timeoutMs: (holdSeconds() + 20) * 1000,
        }),
      ),
    );
    await sleep(500);
    expect(await readLatencyMs()).toBeLessThan(2000);
    const results = await flood;
    for (const r of results) {
      expect(r.timedOut, 'a held request was never answered').toBe(false);
      expect(r.status).toBe(403);
      expect(r.json).toMatchObject({ kind: 'Status', status: 'Failure' });
      expect(r.json.message).toMatch(/held for approval|displaced/);
    }
    expect(Date.now() - started).toBeLessThan((holdSeconds() + 20) * 1000);
    for (const name of names.slice(0, 5))
      expect((await live(`/api/v1/namespaces/${n}/configmaps/${name}`)).data).toEqual({ a: '1' });
    expect(await readLatencyMs()).toBeLessThan(2000);
  }, 120_000);
});
