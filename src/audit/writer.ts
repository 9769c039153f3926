// Group commit: every line queued while one write+fsync runs goes out in the next single
// write+fsync, so N concurrent requests cost about two fsyncs instead of N. A line queued with
// commit 'next' (an outcome, a read) starts no fsync of its own: it rides the next commit that a
// write-ahead record starts, or a timer's commit when none comes within `rideMs`.
import { AuditUnavailableError } from './errors.js';
import { LineBytes } from './line-bytes.js';

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
  /** Commits: one write+datasync each (with the default O_DSYNC handle, one durable write). */
  fsyncs: number;
  /** Largest number of lines one fsync covered. */
  maxBatch: number;
  /** Commits started by the ride timer (no write-ahead record came along in time). */
  timerCommits: number;
}

/** 'now': durable as soon as possible (write-ahead); 'next': with the next commit, within rideMs. */
export type Commit = 'now' | 'next';

interface Pending {
  /** Where its line ends in the bytes being filled. */
  end: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Default longest wait of a 'next' line for a commit to ride. */
export const DEFAULT_RIDE_MS = 10;

export class GroupCommitWriter {
  readonly stats: WriterStats = { records: 0, writes: 0, fsyncs: 0, maxBatch: 0, timerCommits: 0 };
  private queue: Pending[] = [];
  /** The queue's lines; and the other buffer, written by the commit under way (then reused). */
  private filling = new LineBytes();
  private spare = new LineBytes();
  /** Lines in the queue that asked for 'now': only they start (or continue) a drain. */
  private urgent = 0;
  /** Set when the riders must go now (their timer fired, or close()). */
  private flush = false;
  private draining: Promise<void> | undefined;
  private rideTimer: NodeJS.Timeout | undefined;
  private failure: AuditUnavailableError | undefined;
  private closed = false;

  constructor(
    private readonly file: AppendFile,
    private readonly mode: 'group' | 'each' = 'group',
    private readonly rideMs = DEFAULT_RIDE_MS,
  ) {}

  /** Set once a write or fsync failed; the writer never recovers from it (fail closed). */
  get failed(): AuditUnavailableError | undefined {
    return this.failure;
  }

  /** Resolves when `line` (which must end with "\n") is written and fsynced. */
  enqueue(line: string, commit: Commit = 'now'): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new AuditUnavailableError('audit log is closed'));
    const end = this.filling.add(line);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ end, resolve, reject });
      // 'each' is the one-fsync-per-record baseline: nothing rides there
      if (commit === 'now' || this.mode === 'each') {
        this.urgent++;
        this.start();
      } else if (!this.draining) {
        this.rideTimer ??= setTimeout(() => this.commitRiders(), this.rideMs);
      }
    });
  }

  /** Waits for everything queued so far (riders too), then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.queue.length > 0) this.commitRiders();
    await this.draining;
    await this.file.close().catch((err: unknown) => {
      // After a failure the handle may already be unusable; that is not news.
      if (!this.failure) throw err;
    });
  }

  private start(): void {
    // Start once this turn of the event loop has run every callback whose I/O is ready, so that
    // the changes of every request whose body came in the same poll share the first fsync too.
    if (this.draining) return;
    clearTimeout(this.rideTimer);
    this.rideTimer = undefined;
    this.draining = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  private commitRiders(): void {
    this.rideTimer = undefined;
    if (this.queue.length === 0 || this.failure) return;
    if (!this.draining && !this.closed) this.stats.timerCommits++;
    this.flush = true;
    this.start();
  }

  private async drain(): Promise<void> {
    try {
      while ((this.urgent > 0 || this.flush) && this.queue.length > 0 && !this.failure) {
        const one = this.mode === 'each';
        const batch = one ? this.queue.splice(0, 1) : this.queue.splice(0);
        this.urgent = one ? Math.max(0, this.urgent - 1) : 0;
        if (!one || this.queue.length === 0) this.flush = false;
        if (!(await this.commit(batch, one ? this.takeOne(batch[0] as Pending) : this.takeAll()))) return;
      }
    } finally {
      this.draining = undefined;
      // riders that came in during the last fsync wait for the next write-ahead, or the timer
      if (this.queue.length > 0 && !this.failure)
        this.rideTimer ??= setTimeout(() => this.commitRiders(), this.rideMs);
    }
  }

  /** Every queued line's bytes; lines queued from now on fill the other buffer. */
  private takeAll(): { bytes: Buffer; done: () => void } {
    const taken = this.filling;
    this.filling = this.spare;
    this.spare = taken;
    return { bytes: taken.all(), done: () => taken.clear() };
  }

  /** The first queued line's bytes ('each': one record per fsync). */
  private takeOne(p: Pending): { bytes: Buffer; done: () => void } {
    const bytes = this.filling.shift(p.end);
    for (const q of this.queue) q.end -= p.end;
    return { bytes, done: () => {} };
  }

  /** One write+fsync of `batch`; false once it failed (everything pending is then refused). */
  private async commit(batch: Pending[], lines: { bytes: Buffer; done: () => void }): Promise<boolean> {
    try {
      await this.writeAll(lines.bytes);
      await this.file.datasync();
      this.stats.fsyncs++;
    } catch (err) {
      this.fail(err, batch);
      return false;
    } finally {
      lines.done();
    }
    this.stats.records += batch.length;
    this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
    for (const p of batch) p.resolve();
    return true;
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
    clearTimeout(this.rideTimer);
    this.rideTimer = undefined;
    // Everything not yet durable is refused: the caller must not act on an unrecorded decision.
    for (const p of [...batch, ...this.queue.splice(0)]) p.reject(this.failure);
  }
}
