// Shipping: pino lines for stdout/transports, and a webhook that is at-least-once across outages
// and restarts (receivers dedupe on seq), never blocking appends.

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../src/audit/log.js';
import type { AuditRecord, WebhookSinkConfig } from '../../../src/audit/types.js';
import { records, silent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let path: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, 'actions-log.jsonl');
});
afterEach(() => cleanup());

/** A webhook receiver that answers 503 while `up` is false. */
async function receiver() {
  const state = { up: false, posts: 0, failedPosts: 0, received: [] as AuditRecord[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.posts++;
      if (!state.up) {
        state.failedPosts++;
        res.writeHead(503).end();
        return;
      }
      state.received.push(...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AuditRecord[]));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
  return {
    state,
    url,
    seqs: () => state.received.map((r) => r.seq),
    uniqueSeqs: () => [...new Set(state.received.map((r) => r.seq))].sort((a, b) => a - b),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function webhook(url: string, extra: Partial<WebhookSinkConfig> = {}): WebhookSinkConfig {
  return {
    type: 'webhook',
    name: 'siem',
    url,
    batchSize: 10,
    flushMs: 20,
    minBackoffMs: 10,
    maxBackoffMs: 50,
    ...extra,
  };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('webhook sink', () => {
  it('survives a down receiver: every record arrives once it is up, exactly once after dedupe on seq', async () => {
    const rx = await receiver();
    try {
      const log = await AuditLog.open({ path, logger: silent, sinks: [webhook(rx.url)] });
      // Appends complete while the webhook fails: shipping is not on their path.
      for (let i = 0; i < 45; i++) await log.append({ event: 'received', request_id: `req-${i}` });
      await vi.waitFor(() => expect(rx.state.failedPosts).toBeGreaterThanOrEqual(2), { timeout: 3000 });
      expect(rx.state.received).toHaveLength(0);
      expect(log.shippingStatus()[0]).toMatchObject({ name: 'siem', cursor: 0 });

      rx.state.up = true;
      await vi.waitFor(() => expect(rx.uniqueSeqs()).toEqual(range(1, 45)), { timeout: 5000, interval: 20 });
      await log.close();

      expect(rx.uniqueSeqs()).toEqual(range(1, 45));
      // What arrived is what the file holds, hash and all.
      const file = await records(path);
      const bySeq = new Map(rx.state.received.map((r) => [r.seq, r]));
      for (const rec of file) expect(bySeq.get(rec.seq as number)).toEqual(rec);
      expect(await readFile(`${path}.cursor-siem`, 'utf8')).toBe('45\n');
    } finally {
      await rx.close();
    }
  });

  it('resumes from the persisted cursor after a restart, without re-sending what was delivered', async () => {
    const rx = await receiver();
    rx.state.up = true;
    try {
      const first = await AuditLog.open({ path, logger: silent, sinks: [webhook(rx.url)] });
      for (let i = 0; i < 20; i++) await first.append({ event: 'received' });
      await first.close(); // close flushes the sink
      expect(rx.seqs()).toEqual(range(1, 20));

      // Records written while no sink ran (or kubegate was down) are in the file only…
      const offline = await AuditLog.open({ path, logger: silent });
      for (let i = 0; i < 10; i++) await offline.append({ event: 'received' });
      await offline.close();

      // …and the next start ships them from the file, then keeps going with new ones.
      const second = await AuditLog.open({ path, logger: silent, sinks: [webhook(rx.url)] });
      for (let i = 0; i < 5; i++) await second.append({ event: 'executed' });
      await vi.waitFor(() => expect(rx.uniqueSeqs()).toEqual(range(1, 35)), { timeout: 5000, interval: 20 });
      await second.close();
      expect(rx.seqs()).toEqual(range(1, 35)); // nothing sent twice
      expect(await readFile(`${path}.cursor-siem`, 'utf8')).toBe('35\n');
    } finally {
      await rx.close();
    }
  });

  it('keeps a bounded queue: overflow is re-read from the file, nothing is lost', async () => {
    const rx = await receiver();
    try {
      const log = await AuditLog.open({ path, logger: silent, sinks: [webhook(rx.url, { maxQueue: 5 })] });
      await Promise.all(Array.from({ length: 60 }, () => log.append({ event: 'received' })));
      await new Promise((r) => setTimeout(r, 30));
      expect(log.shippingStatus()[0]!.queued).toBeLessThanOrEqual(5);
      rx.state.up = true;
      await vi.waitFor(() => expect(rx.uniqueSeqs()).toEqual(range(1, 60)), { timeout: 5000, interval: 20 });
      await log.close();
    } finally {
      await rx.close();
    }
  });

  it('a dead webhook does not hold up close(); the cursor stays for the next start', async () => {
    const rx = await receiver();
    try {
      const log = await AuditLog.open({
        path,
        logger: silent,
        sinks: [webhook(rx.url)],
        shipCloseTimeoutMs: 200,
      });
      for (let i = 0; i < 5; i++) await log.append({ event: 'received' });
      const t0 = Date.now();
      await log.close();
      expect(Date.now() - t0).toBeLessThan(2000);
      expect(rx.state.received).toHaveLength(0);
      await expect(readFile(`${path}.cursor-siem`, 'utf8')).rejects.toThrow(/ENOENT/);
    } finally {
      await rx.close();
    }
  });
});

describe('pino sinks', () => {
  it('stdout: one pino line per durable record, the record under "audit"', async () => {
    const lines: string[] = [];
    const destination = { write: (s: string) => void lines.push(s) };
    const log = await AuditLog.open({ path, logger: silent, sinks: [{ type: 'stdout', destination }] });
    await log.append({ event: 'received', request_id: 'a' });
    await log.append({ event: 'executed', request_id: 'a', status: 'success' });
    await log.close();
    expect(lines).toHaveLength(2);
    const parsed = lines.map((l) => JSON.parse(l) as { audit: AuditRecord; level: number; msg: string });
    expect(parsed.map((p) => p.audit)).toEqual(await records(path));
    expect(parsed[0]).toMatchObject({ level: 30, msg: 'audit record' });
    expect(parsed[0]).not.toHaveProperty('pid');
  });

  it('any pino transport by target name (pino/file here)', async () => {
    const out = join(dir, 'shipped.log');
    const log = await AuditLog.open({
      path,
      logger: silent,
      sinks: [{ type: 'pino', target: 'pino/file', options: { destination: out, mkdir: true } }],
    });
    for (let i = 0; i < 3; i++) await log.append({ event: 'received', n: i });
    await log.close();
    const shipped = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { audit: AuditRecord }).audit.seq);
    expect(shipped).toEqual([1, 2, 3]);
  });
});
