// A notification receiver as an operator would write one (node:http on 127.0.0.1): it checks
// Kubegate-Signature as the README shows, and can go down and come back on the same port.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { WebhookEvent } from '../../src/notify/webhook-event.js';

/** README's verification: HMAC-SHA256 over "<t>.<raw body>", and no older than maxAgeSeconds. */
export function verify(
  secret: string,
  header: string | undefined,
  raw: Buffer,
  maxAgeSeconds = 300,
): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > maxAgeSeconds) return false;
  const want = createHmac('sha256', secret).update(`${m[1]}.`).update(raw).digest();
  return timingSafeEqual(want, Buffer.from(m[2]!, 'hex'));
}

export interface Received<T> {
  at: number;
  body: T;
  raw: Buffer;
  signature: string | undefined;
  verified: boolean;
}

/** The JSON event kubegate sends (its own type: the test checks what it promises). */
export type NotifyEvent = WebhookEvent;

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

export class Receiver {
  readonly events: Received<NotifyEvent>[] = [];
  readonly slack: Received<SlackMessage>[] = [];
  private server: Server | undefined;

  constructor(
    readonly port: number,
    private readonly secret: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signature = req.headers['kubegate-signature'] as string | undefined;
        const item = { at: Date.now(), raw, signature, verified: verify(this.secret, signature, raw) };
        if (req.url === '/events') this.events.push({ ...item, body: JSON.parse(raw.toString('utf8')) });
        else if (req.url === '/slack') this.slack.push({ ...item, body: JSON.parse(raw.toString('utf8')) });
        res.writeHead(req.url === '/events' || req.url === '/slack' ? 204 : 404).end();
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  /** Stops listening and drops kept-alive connections: the sender gets connection refused. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** One event per seq (delivery is at-least-once). */
  uniqueEvents(): Map<number, NotifyEvent> {
    return new Map(this.events.map((e) => [e.body.seq, e.body]));
  }

  eventsFor(id: string): NotifyEvent[] {
    return this.events.filter((e) => e.body.request_id === id).map((e) => e.body);
  }
}
