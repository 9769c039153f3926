// Hands durable records to the configured sinks, beside the request path: offer() only buffers,
// delivery happens on a later turn of the event loop, and no sink can hold up an append.
import type { Logger } from 'pino';
import { PinoSink } from './pino-sink.js';
import type { Sink, SinkStatus } from './sink.js';
import type { AuditRecord, SinkConfig } from './types.js';
import { WebhookSink } from './webhook-sink.js';

export interface ShipperContext {
  auditPath: string;
  /** Highest seq durable in the file when shipping starts (webhooks catch up to it from their cursor). */
  durableSeq: number;
  logger: Logger;
  /** How long close() lets webhooks keep delivering (default 5000 ms). */
  closeTimeoutMs?: number;
}

export class Shipper {
  private pending: AuditRecord[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  private constructor(
    private readonly sinks: Sink[],
    private readonly logger: Logger,
  ) {}

  static async start(configs: readonly SinkConfig[], ctx: ShipperContext): Promise<Shipper> {
    const names = new Set<string>();
    const sinks: Sink[] = [];
    try {
      for (const cfg of configs) {
        const sink =
          cfg.type === 'stdout'
            ? PinoSink.stdout(cfg)
            : cfg.type === 'pino'
              ? PinoSink.transport(cfg)
              : await WebhookSink.start(cfg, ctx);
        sinks.push(sink);
        // Two webhooks with one name would share (and fight over) one cursor file.
        if (names.has(sink.name)) throw new TypeError(`duplicate audit sink name ${sink.name}`);
        names.add(sink.name);
      }
    } catch (err) {
      await Promise.all(sinks.map((s) => s.close()));
      throw err;
    }
    return new Shipper(sinks, ctx.logger);
  }

  get size(): number {
    return this.sinks.length;
  }

  /** False without sinks: the log then need not hand records over at all. */
  get active(): boolean {
    return this.sinks.length > 0;
  }

  /** Called once a record is durable. Never throws, never waits. */
  offer(record: AuditRecord): void {
    if (this.sinks.length === 0) return;
    this.pending.push(record);
    this.scheduled ??= setImmediate(() => this.dispatch());
  }

  async close(): Promise<void> {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.dispatch();
    }
    await Promise.all(this.sinks.map((s) => s.close()));
  }

  status(): SinkStatus[] {
    return this.sinks.map((s) => s.status());
  }

  private dispatch(): void {
    this.scheduled = undefined;
    const records = this.pending;
    this.pending = [];
    for (const sink of this.sinks) {
      try {
        sink.offer(records);
      } catch (err) {
        this.logger.warn({ err, sink: sink.name }, 'audit sink rejected records');
      }
    }
  }
}
