// HTTP(S) webhook sink: POSTs JSON arrays of records, retries with capped exponential backoff,
// and persists a cursor after each acknowledged batch. At-least-once: receivers dedupe on seq.
// With a `format` (notifications) it POSTs one shaped body per record instead, skipping the
// records the format leaves out, with the same cursor, retries and catch-up from the file.
//
// The audit file is the source of truth. The in-memory queue is only a shortcut: when it is
// full (dead webhook) or after a restart, records are re-read from the file from the cursor on.
import { access } from 'node:fs/promises';
import type { Logger } from 'pino';
import { parseRecord } from './check.js';
import { cursorPath, readCursor, writeCursor } from './cursor.js';
import { readLines } from './lines.js';
import type { Sink, SinkStatus } from './sink.js';
import type { AuditRecord, RecordFormat, WebhookSinkConfig } from './types.js';

const DEFAULTS = {
  batchSize: 100,
  flushMs: 1000,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
  timeoutMs: 10_000,
  maxQueue: 10_000,
};

export interface WebhookSinkContext {
  auditPath: string;
  /** Highest seq already durable in the file when the sink starts. */
  durableSeq: number;
  logger: Logger;
  /** How long close() keeps trying to deliver before leaving the rest to the next start. */
  closeTimeoutMs?: number;
}

type Settings = Required<Omit<WebhookSinkConfig, 'headers' | 'format' | 'fromEnd' | 'label'>> & {
  headers: Record<string, string>;
  label: string;
  format: RecordFormat | undefined;
};

export class WebhookSink implements Sink {
  readonly name: string;
  private readonly cfg: Settings;
  private readonly cursorFile: string;
  private queue: AuditRecord[] = [];
  /** First seq not yet acknowledged (cursor + 1). */
  private nextSeq: number;
  private durableSeq: number;
  /** When the oldest queued record arrived (for flushMs). */
  private oldestQueuedAt = 0;
  /** seq → byte offset of its line, so a long backlog is read once, not rescanned per batch. */
  private readHints = new Map<number, number>();
  private wake: (() => void) | undefined;
  private wakeOnClose: (() => void) | undefined;
  private closing = false;
  private closeDeadline = Number.POSITIVE_INFINITY;
  private readonly abort = new AbortController();
  private readonly loop: Promise<void>;
  private shipped = 0;
  /** Last seq of the batch in flight that went out (per-record formats), to keep after a failure. */
  private sentThrough = 0;
  private failures = 0;
  private lastError: string | undefined;

  private constructor(
    cfg: WebhookSinkConfig,
    private readonly ctx: WebhookSinkContext,
    cursor: number,
  ) {
    this.name = cfg.name;
    this.cfg = {
      ...cfg,
      batchSize: positive(cfg, 'batchSize'),
      flushMs: positive(cfg, 'flushMs'),
      minBackoffMs: positive(cfg, 'minBackoffMs'),
      maxBackoffMs: positive(cfg, 'maxBackoffMs'),
      timeoutMs: positive(cfg, 'timeoutMs'),
      maxQueue: positive(cfg, 'maxQueue'),
      headers: cfg.headers ?? {},
      label: cfg.label ?? cfg.url,
      format: cfg.format,
    };
    this.cursorFile = cursorPath(ctx.auditPath, cfg.name);
    this.nextSeq = cursor + 1;
    this.durableSeq = ctx.durableSeq;
    this.loop = this.run();
  }

  static async start(cfg: WebhookSinkConfig, ctx: WebhookSinkContext): Promise<WebhookSink> {
    const file = cursorPath(ctx.auditPath, cfg.name);
    let cursor = 0;
    try {
      cursor = await readCursor(file);
    } catch (err) {
      ctx.logger.warn({ err, sink: cfg.name }, 'unreadable audit shipping cursor; re-sending from seq 1');
    }
    if (cfg.fromEnd && !(await exists(file))) {
      // A new notification sink announces what happens from now on, not the whole history.
      cursor = ctx.durableSeq;
      await writeCursor(file, cursor);
    } else if (cursor > ctx.durableSeq) {
      // The cursor belongs to another (older, replaced) file: start this one from the beginning.
      ctx.logger.warn(
        { sink: cfg.name, cursor, lastSeq: ctx.durableSeq },
        'cursor ahead of audit file; reset',
      );
      cursor = 0;
    }
    return new WebhookSink(cfg, ctx, cursor);
  }

  offer(records: readonly AuditRecord[]): void {
    for (const r of records) {
      if (r.seq > this.durableSeq) this.durableSeq = r.seq;
      if (r.seq < this.nextSeq) continue;
      const tail = this.queue[this.queue.length - 1];
      // Keep the queue contiguous; anything skipped here is re-read from the file later.
      if (this.queue.length >= this.cfg.maxQueue || (tail && r.seq !== tail.seq + 1)) continue;
      if (this.queue.length === 0) this.oldestQueuedAt = Date.now();
      this.queue.push(r);
    }
    this.wake?.();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.closeDeadline = Date.now() + (this.ctx.closeTimeoutMs ?? 5000);
    const timer = setTimeout(() => this.abort.abort(), Math.max(0, this.closeDeadline - Date.now()));
    this.wakeOnClose?.();
    await this.loop;
    clearTimeout(timer);
  }

  status(): SinkStatus {
    return {
      name: this.name,
      type: 'webhook',
      shipped: this.shipped,
      queued: this.queue.length,
      failures: this.failures,
      cursor: this.nextSeq - 1,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  private async run(): Promise<void> {
    let backoff = this.cfg.minBackoffMs;
    for (;;) {
      if (this.closing && (this.nextSeq > this.durableSeq || Date.now() >= this.closeDeadline)) return;
      let batch: AuditRecord[] | undefined;
      try {
        batch = await this.nextBatch();
        if (!batch) continue;
        await this.send(batch);
        await this.commit(batch[batch.length - 1]!.seq);
        this.lastError = undefined;
        backoff = this.cfg.minBackoffMs;
      } catch (err) {
        // Any failure (POST, cursor write, reading the file) is retried: the file keeps the records.
        await this.keepPartial();
        this.failures++;
        this.lastError = describe(err);
        this.ctx.logger.warn(
          {
            sink: this.name,
            err: this.lastError,
            retryInMs: backoff,
            fromSeq: batch?.[0]?.seq ?? this.nextSeq,
          },
          this.cfg.format
            ? 'notification delivery failed; will retry'
            : 'audit webhook delivery failed; will retry',
        );
        await this.sleep(backoff, false);
        backoff = Math.min(backoff * 2, this.cfg.maxBackoffMs);
      }
    }
  }

  /** The next records to send from nextSeq on, or undefined after waiting for more. */
  private async nextBatch(): Promise<AuditRecord[] | undefined> {
    while (this.queue.length > 0 && this.queue[0]!.seq < this.nextSeq) this.queue.shift();
    if (this.nextSeq > this.durableSeq) {
      await this.sleep(Number.POSITIVE_INFINITY);
      return undefined;
    }
    const head = this.queue[0];
    if (!head || head.seq > this.nextSeq) {
      // Gap between the cursor and memory (restart, or queue overflow): the file has it.
      const upTo = head ? head.seq - 1 : this.durableSeq;
      const fromFile = await this.readFromFile(this.nextSeq, upTo);
      if (fromFile.length === 0) {
        // Should not happen (durable records are in the file); avoid a hot loop if it does.
        this.lastError = `records ${this.nextSeq}..${upTo} not found in ${this.ctx.auditPath}`;
        await this.sleep(this.cfg.maxBackoffMs, false);
        return undefined;
      }
      return fromFile;
    }
    const waited = Date.now() - this.oldestQueuedAt;
    if (this.queue.length < this.cfg.batchSize && waited < this.cfg.flushMs && !this.closing) {
      await this.sleep(this.cfg.flushMs - waited);
      return undefined;
    }
    return this.queue.slice(0, this.cfg.batchSize);
  }

  /** Records from..to (at most one batch), contiguous from `from`, re-read from the audit file. */
  private async readFromFile(from: number, to: number): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    let firstOffset = 0;
    let end = 0;
    for await (const line of readLines(this.ctx.auditPath, this.readHints.get(from) ?? 0)) {
      if (!line.complete) break;
      const r = parseRecord(line.text);
      if (!r || r.seq < from) continue;
      // Never skip a seq: a stale hint or an odd file gives a short batch, not a silent gap.
      if (r.seq > to || r.seq !== from + out.length) break;
      if (out.length === 0) firstOffset = line.offset;
      out.push(r);
      end = line.end;
      if (out.length >= this.cfg.batchSize) break;
    }
    if (out.length > 0) {
      // Where this batch starts (for a retry) and where the next one does.
      this.readHints = new Map([
        [from, firstOffset],
        [from + out.length, end],
      ]);
    } else if (this.readHints.has(from)) {
      // The hint led nowhere: forget it and scan from the start next time.
      this.readHints = new Map();
    }
    return out;
  }

  /** The batch as one JSON array, or with a format one POST per record it keeps, in seq order. */
  private async send(batch: AuditRecord[]): Promise<void> {
    const format = this.cfg.format;
    if (!format) {
      await this.post(JSON.stringify(batch), {});
      this.shipped += batch.length;
      return;
    }
    for (const r of batch) {
      const body = format.body(r);
      if (body !== undefined) {
        await this.post(body, format.headers?.(body) ?? {});
        this.shipped++;
      }
      this.sentThrough = r.seq;
    }
  }

  private async commit(seq: number): Promise<void> {
    await writeCursor(this.cursorFile, seq);
    this.nextSeq = seq + 1;
  }

  /** After a failure mid-batch, records already POSTed one by one are not sent again. */
  private async keepPartial(): Promise<void> {
    if (!this.cfg.format || this.sentThrough < this.nextSeq) return;
    try {
      await this.commit(this.sentThrough);
    } catch {
      // The cursor stays behind: those records go again (at-least-once).
    }
  }

  private async post(body: string, headers: Record<string, string>): Promise<void> {
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.cfg.timeoutMs)]);
    const res = await fetch(this.cfg.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.cfg.headers, ...headers },
      body,
      signal,
    });
    // Drain the body so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`HTTP ${res.status} from ${this.cfg.label}`);
  }

  /**
   * Waits `ms`; close() always cuts the wait short, a new record only when `onOffer` (a backoff
   * must not turn into a retry per appended record).
   */
  private sleep(ms: number, onOffer = true): Promise<void> {
    return new Promise<void>((resolve) => {
      const limit = this.closing ? Math.max(0, Math.min(ms, this.closeDeadline - Date.now())) : ms;
      const timer = Number.isFinite(limit) ? setTimeout(() => done(), limit) : undefined;
      timer?.unref();
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.wakeOnClose = undefined;
        resolve();
      };
      this.wakeOnClose = done;
      if (onOffer) this.wake = done;
    });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** fetch() reports network errors as "fetch failed" with the useful part in `cause`. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}

/** The configured number (defaults for absent ones); a bad value is an error naming the key. */
function positive(cfg: WebhookSinkConfig, key: keyof typeof DEFAULTS): number {
  const v = cfg[key];
  if (v === undefined) return DEFAULTS[key];
  if (!Number.isFinite(v) || v < 0 || (key !== 'flushMs' && v === 0)) {
    throw new TypeError(`webhook sink ${cfg.name}: ${key} must be a positive number, got ${v}`);
  }
  return v;
}
