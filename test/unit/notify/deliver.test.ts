// Delivery through the audit log's shipping: one POST per notified record, signed, only new
// events on a first start, and every missed event after an outage — none twice.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../../src/audit/log.js';
import { verifySignature } from '../../../src/notify/sign.js';
import { notifySinks } from '../../../src/notify/sinks.js';
import type { WebhookEvent } from '../../../src/notify/webhook-event.js';
import { silent, tempDir } from '../audit/helpers.js';
import { LEAKS } from './fixtures.js';

const SECRET = 'test-secret-0123456789abcdef';
let dir: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

interface Post {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Answers 503 to a webhook event while `failures` has a count left for its request id. */
async function receiver() {
  const state = { failures: new Map<string, number>(), posts: [] as Post[], failed: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const id = req.url === '/hook' ? (JSON.parse(body) as WebhookEvent).request_id : '';
      const left = state.failures.get(id) ?? 0;
      if (left > 0) {
        state.failures.set(id, left - 1);
        state.failed++;
        res.writeHead(503).end();
        return;
      }
      state.posts.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const events = () =>
    state.posts.filter((p) => p.path === '/hook').map((p) => JSON.parse(p.body) as WebhookEvent);
  const slack = () =>
    state.posts.filter((p) => p.path === '/slack').map((p) => JSON.parse(p.body) as { text: string });
  return { state, base, events, slack, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function open(rx: { base: string }) {
  const secretFile = join(dir, 'secret');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(secretFile, `${SECRET}\n`);
  const sinks = notifySinks({
    webhook_url: `${rx.base}/hook`,
    webhook_secret_file: secretFile,
    slack_webhook_url: `${rx.base}/slack`,
  });
  return AuditLog.open({ path: join(dir, 'actions-log.jsonl'), logger: silent, sinks });
}

const held = (id: string) => ({
  event: 'held',
  request_id: id,
  action: 'patch v1 configmaps ns/c',
  resource: 'ns/configmaps/c',
  user: 'agent',
  risk: 'MEDIUM',
  reasons: ['change to ConfigMap ns/c'],
  status: 'pending',
  body: { data: { password: 'hunter2' } },
});

describe('notification delivery', () => {
  it('signs one event per record, messages Slack for holds, and skips the history of a new sink', async () => {
    const rx = await receiver();
    try {
      // History written before notifications were configured is not announced.
      const before = await AuditLog.open({ path: join(dir, 'actions-log.jsonl'), logger: silent });
      await before.append(held('req-old'));
      await before.close();

      const log = await open(rx);
      const t0 = Date.now();
      await log.append(held('req-1'));
      await vi.waitFor(() => expect(rx.events()).toHaveLength(1), { timeout: 1000, interval: 5 });
      expect(Date.now() - t0).toBeLessThan(1000);
      await log.append({ event: 'read', request_id: 'req-r', user: 'agent' });
      await log.append({ ...held('req-1'), event: 'approved', status: 'approved', approver: 'alice' });
      await vi.waitFor(() => expect(rx.events().map((e) => e.event)).toEqual(['held', 'approved']), {
        timeout: 2000,
        interval: 20,
      });
      expect(rx.slack()).toHaveLength(1);
      expect(rx.slack()[0]!.text).toContain('approve-cli approve req-1');
      for (const p of rx.state.posts.filter((x) => x.path === '/hook')) {
        const sig = p.headers['kubegate-signature'] as string;
        expect(verifySignature(SECRET, sig, p.body)).toBe(true);
        expect(verifySignature('some-other-secret-value', sig, p.body)).toBe(false);
      }
      for (const p of rx.state.posts) for (const leak of LEAKS) expect(p.body).not.toContain(leak);
      expect(rx.state.posts.some((p) => p.body.includes('req-old'))).toBe(false);
      // The cursor moves once the whole batch is through (a moment after the last POST).
      await vi.waitFor(() => {
        const status = Object.fromEntries(log.shippingStatus().map((s) => [s.name, s]));
        expect(status['notify.webhook']).toMatchObject({ shipped: 2, failures: 0, cursor: 4 });
        expect(status['notify.slack']).toMatchObject({ shipped: 1, failures: 0, cursor: 4 });
      });
      await log.close();
    } finally {
      await rx.close();
    }
  });

  it('after failures (one mid-batch), every missed event arrives, none twice', async () => {
    const rx = await receiver();
    try {
      const log = await open(rx);
      await log.append(held('req-a'));
      await vi.waitFor(() => expect(rx.events()).toHaveLength(1), { timeout: 2000, interval: 10 });
      // b, c and d usually go as one batch: b is delivered, c fails three times; b must not go again.
      rx.state.failures.set('req-c', 3);
      await Promise.all(['req-b', 'req-c', 'req-d'].map((id) => log.append(held(id))));
      await vi.waitFor(
        () => expect(rx.events().map((e) => e.request_id)).toEqual(['req-a', 'req-b', 'req-c', 'req-d']),
        {
          timeout: 8000,
          interval: 20,
        },
      );
      await vi.waitFor(() => expect(rx.slack()).toHaveLength(4), { timeout: 8000, interval: 20 });
      const seqs = rx.events().map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(rx.state.failed).toBe(3);
      expect(log.shippingStatus().find((s) => s.name === 'notify.webhook')?.failures).toBe(3);
      await log.close();
    } finally {
      await rx.close();
    }
  });
});
