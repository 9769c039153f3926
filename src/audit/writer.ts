// Group commit: every line queued while one write+fsync runs goes out in the next single
// write+fsync, so N concurrent requests cost about two fsyncs instead of N.
import { AuditUnavailableError } from './errors.js';

/** The part of fs.promises.FileHandle the writer uses (an interface so tests can inject faults). */
export interface AppendFile {
  write(buffer: Uint8Array): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface WriterStats {
  /** Lines made durable. */
  records: number;
  /** write() calls (partial writes count again). */
  writes: number;
  fsyncs: number;
  /** Largest number of lines one fsync covered. */
  maxBatch: number;
}

interface Pending {
  line: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class GroupCommitWriter {
  readonly stats: WriterStats = { records: 0, writes: 0, fsyncs: 0, maxBatch: 0 };
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private failure: AuditUnavailableError | undefined;
  private closed = false;

  constructor(
    private readonly file: AppendFile,
    private readonly mode: 'group' | 'each' = 'group',
  ) {}

  /** Set once a write or fsync failed; the writer never recovers from it (fail closed). */
  get failed(): AuditUnavailableError | undefined {
    return this.failure;
  }

  /** Resolves when `line` (which must end with "\n") is written and fsynced. */
  enqueue(line: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new AuditUnavailableError('audit log is closed'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      // Start on a microtask so appends made in the same tick share the first fsync too.
      if (!this.draining) {
        this.draining = Promise.resolve().then(() => this.drain());
      }
    });
  }

  /** Waits for everything queued so far, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.draining;
    await this.file.close().catch((err: unknown) => {
      // After a failure the handle may already be unusable; that is not news.
      if (!this.failure) throw err;
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        const batch = this.mode === 'each' ? this.queue.splice(0, 1) : this.queue.splice(0);
        try {
          await this.writeAll(Buffer.from(batch.map((p) => p.line).join(''), 'utf8'));
          await this.file.datasync();
          this.stats.fsyncs++;
        } catch (err) {
          this.fail(err, batch);
          return;
        }
        this.stats.records += batch.length;
        this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
        for (const p of batch) p.resolve();
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async writeAll(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.file.write(buf.subarray(off));
      this.stats.writes++;
      if (bytesWritten <= 0) throw new Error('write returned 0 bytes');
      off += bytesWritten;
    }
  }

  private fail(err: unknown, batch: Pending[]): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.failure = new AuditUnavailableError(`audit log write failed (${reason}); refusing further records`, {
      cause: err,
    });
    // Everything not yet durable is refused: the caller must not act on an unrecorded decision.
    for (const p of [...batch, ...this.queue.splice(0)]) p.reject(this.failure);
  }
}
