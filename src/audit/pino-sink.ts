// stdout and pino-transport sinks: one pino line per record, `{"audit": {...record}}`, for
// Fluent Bit, Vector or any pino transport. Best effort: a record written to stdout just before
// a crash may be lost there; the file (or the webhook sink, with its cursor) is the durable copy.
import { type DestinationStream, type Logger, pino } from 'pino';
import type { Sink, SinkStatus } from './sink.js';
import type { AuditRecord, PinoSinkConfig, StdoutSinkConfig } from './types.js';

// Past this much unwritten output, sonic-boom drops lines rather than grow without bound.
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
const CLOSE_TIMEOUT_MS = 5000;

export class PinoSink implements Sink {
  private shipped = 0;
  private failures = 0;
  private lastError: string | undefined;
  private readonly out: Logger;

  private constructor(
    readonly name: string,
    private readonly type: 'stdout' | 'pino',
    stream: DestinationStream & Partial<NodeJS.EventEmitter>,
    private readonly end: () => Promise<void>,
  ) {
    // No pid/hostname/time: the record carries its own timestamp and replica.
    this.out = pino({ base: null, timestamp: false }, stream);
    stream.on?.('error', (err: Error) => this.noteError(err));
    stream.on?.('drop', () => this.noteError(new Error('output buffer full: line dropped')));
  }

  static stdout(cfg: StdoutSinkConfig): PinoSink {
    if (cfg.destination) return new PinoSink('stdout', 'stdout', cfg.destination, async () => {});
    const dest = pino.destination({ dest: 1, sync: false, maxLength: MAX_BUFFERED_BYTES });
    return new PinoSink('stdout', 'stdout', dest, () =>
      withTimeout(new Promise((r) => dest.flush(() => r()))),
    );
  }

  static transport(cfg: PinoSinkConfig): PinoSink {
    const stream = pino.transport({ target: cfg.target, options: cfg.options ?? {} });
    const end = () =>
      withTimeout(
        new Promise<void>((resolve) => {
          stream.once('close', () => resolve());
          stream.end();
        }),
      );
    return new PinoSink(`pino:${cfg.target}`, 'pino', stream, end);
  }

  offer(records: readonly AuditRecord[]): void {
    for (const record of records) {
      try {
        this.out.info({ audit: record }, 'audit record');
        this.shipped++;
      } catch (err) {
        this.noteError(err);
      }
    }
  }

  async close(): Promise<void> {
    await this.end();
  }

  status(): SinkStatus {
    return {
      name: this.name,
      type: this.type,
      shipped: this.shipped,
      queued: 0,
      failures: this.failures,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  private noteError(err: unknown): void {
    this.failures++;
    this.lastError = err instanceof Error ? err.message : String(err);
  }
}

function withTimeout(p: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    t.unref();
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}
