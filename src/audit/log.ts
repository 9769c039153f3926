// The audit log: append-only JSONL, hash-chained, signed checkpoints, group-committed fsync.
// append() resolves only once the record is on disk, so the proxy can record a decision
// before acting on it, and refuse to act when the log cannot (fail closed).
import type { KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Logger, pino } from 'pino';
import { auditKeyId, signCheckpoint } from './chain.js';
import { type EncodedField, encodeFields, encodePlain, quote } from './encode.js';
import { AuditInputError, AuditKeyError, AuditUnavailableError } from './errors.js';
import { ASSIGNED_FIELDS, sealLine } from './line.js';
import { scanForOpen, setTornTailAside } from './recover.js';
import { targetsSecrets } from './redact.js';
import { Shipper } from './ship.js';
import type { SinkStatus } from './sink.js';
import type { AuditInput, AuditRecord, SinkConfig } from './types.js';
import { type AppendFile, type Commit, GroupCommitWriter, type WriterStats } from './writer.js';

export { AuditCorruptError, AuditInputError, AuditKeyError, AuditUnavailableError } from './errors.js';
export type { AuditInput, AuditRecord, SinkConfig } from './types.js';

export interface AuditLogOptions {
  path: string;
  /** Ed25519 private key; without it no checkpoints are written (the chain alone remains). */
  signingKey?: KeyObject;
  /** A signed checkpoint after every N records (default 100). */
  checkpointEvery?: number;
  /** Name of this kubegate replica, stamped on every record. */
  replica?: string;
  /** 'group' (default): concurrent appends share one write+fsync; 'each': one per record (benchmarks). */
  fsync?: 'group' | 'each';
  sinks?: SinkConfig[];
  /** For the module's own warnings (sink failures); defaults to warn level on stderr. */
  logger?: Logger;
  /** How long close() lets webhook sinks keep delivering (default 5000 ms). */
  shipCloseTimeoutMs?: number;
  /** Longest wait of a record appended with commit 'next' for a commit to ride (default 10 ms). */
  rideMs?: number;
  /** Test seam: opens the append handle (default fs.promises.open(path, 'a')). */
  openFile?: (path: string) => Promise<AppendFile>;
}

const openPaths = new Set<string>();

export interface AppendOptions {
  /**
   * 'now' (default): durable as soon as possible, the write-ahead kind. 'next': the record starts
   * no fsync of its own and rides the next commit (at the latest after `rideMs`); for records
   * nothing waits on, such as an outcome after the answer went out. Either way the promise
   * resolves only once the record is durable.
   */
  commit?: Commit;
}

export class AuditLog {
  private seq: number;
  private lastHash: string;
  private sinceCheckpoint: number;
  private closing = false;
  private readonly keyId: string | undefined;
  private readonly every: number;
  private readonly replicaJson: string | undefined;

  private constructor(
    private readonly opts: AuditLogOptions,
    private readonly writer: GroupCommitWriter,
    private readonly shipper: Shipper,
    state: { lastSeq: number; lastHash: string; sinceCheckpoint: number },
  ) {
    this.seq = state.lastSeq;
    this.lastHash = state.lastHash;
    this.sinceCheckpoint = state.sinceCheckpoint;
    this.keyId = opts.signingKey ? auditKeyId(opts.signingKey) : undefined;
    this.every = opts.checkpointEvery ?? 100;
    this.replicaJson = opts.replica === undefined ? undefined : quote(opts.replica);
  }

  /**
   * Opens (or creates) the log, verifying the existing chain. A torn final line (crash during a
   * write) is moved to `<path>.torn-<time>` and a `recovered` record is appended; damage anywhere
   * else throws AuditCorruptError (never repaired automatically).
   */
  static async open(opts: AuditLogOptions): Promise<AuditLog> {
    validate(opts);
    const claim = resolve(opts.path);
    // Two writers on one file would interleave two chains (one writer per file and replica).
    if (openPaths.has(claim)) throw new AuditUnavailableError(`audit log ${opts.path} is already open`);
    openPaths.add(claim);
    try {
      return await AuditLog.openClaimed(opts);
    } catch (err) {
      openPaths.delete(claim);
      throw err;
    }
  }

  private static async openClaimed(opts: AuditLogOptions): Promise<AuditLog> {
    const logger = opts.logger ?? pino({ name: 'kubegate-audit', level: 'warn' }, pino.destination(2));
    await mkdir(dirname(opts.path), { recursive: true });
    const scan = await scanForOpen(opts.path);
    let tornPath: string | undefined;
    if (scan.torn) tornPath = await setTornTailAside(opts.path, scan.torn.offset, scan.torn.bytes);

    const file = await (opts.openFile ?? openAppend)(opts.path);
    // A new file's directory entry must be durable too, or a crash could lose the whole file.
    if (!scan.exists) await syncDir(dirname(opts.path));

    let shipper: Shipper;
    try {
      shipper = await Shipper.start(opts.sinks ?? [], {
        auditPath: opts.path,
        durableSeq: scan.lastSeq,
        logger,
        ...(opts.shipCloseTimeoutMs !== undefined && { closeTimeoutMs: opts.shipCloseTimeoutMs }),
      });
    } catch (err) {
      await file.close();
      throw err;
    }
    const writer = new GroupCommitWriter(file, opts.fsync ?? 'group', opts.rideMs);
    const log = new AuditLog(opts, writer, shipper, scan);
    if (scan.torn && tornPath) {
      logger.warn(
        { path: opts.path, tornPath, bytes: scan.torn.bytes },
        'audit log: torn final line set aside',
      );
      await log.appendOrClose({
        event: 'recovered',
        status: 'success',
        torn_bytes: scan.torn.bytes,
        torn_path: tornPath,
        message: `set aside ${scan.torn.bytes} bytes of an unfinished write after seq ${scan.lastSeq}`,
      });
    }
    return log;
  }

  /** False once a write or fsync failed, or after close(): callers must refuse mutations. */
  get healthy(): boolean {
    return !this.closing && this.writer.failed === undefined;
  }

  /** seq of the last record assigned (durable once its append() resolved). */
  get lastSeq(): number {
    return this.seq;
  }

  /** Counters for tests and benchmarks (fsyncs vs records shows the group-commit effect). */
  get stats(): Readonly<WriterStats> {
    return this.writer.stats;
  }

  get path(): string {
    return this.opts.path;
  }

  shippingStatus(): SinkStatus[] {
    return this.shipper.status();
  }

  /**
   * Appends one record; resolves with it (as written: parsed back from its line, frozen) once it
   * is written and fsynced. seq, prev and hash are assigned synchronously, so records are in call
   * order. Rejects with AuditUnavailableError when the log has failed or is closed (and on the
   * first failure itself).
   */
  append(input: AuditInput, opts: AppendOptions = {}): Promise<AuditRecord> {
    return this.add(input, opts, true).then((line) => parseLine(line as string));
  }

  /** append() for callers that do not need the record back: resolves with its seq once durable. */
  write(input: AuditInput, opts: AppendOptions = {}): Promise<number> {
    const seq = this.seq + 1;
    return this.add(input, opts).then(() => seq);
  }

  private add(input: AuditInput, opts: AppendOptions, keep = false): Promise<string | undefined> {
    if (this.closing) return Promise.reject(new AuditUnavailableError('audit log is closed'));
    const failure = this.writer.failed;
    if (failure) return Promise.reject(failure);
    let fields: EncodedField[];
    try {
      fields = prepare(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const commit = opts.commit ?? 'now';
    const done = this.seal(fields, commit, keep);
    if (this.keyId && ++this.sinceCheckpoint >= this.every) {
      // Same tick, so it joins the same batch; its failure is the same failure as the record's.
      this.checkpoint(commit).catch(() => undefined);
    }
    return done;
  }

  /** Writes a final checkpoint (when a key is set and records followed the last one), drains, closes. */
  async close(): Promise<void> {
    if (this.closing) return;
    // Refuse new appends first, so the final checkpoint really is the last record.
    this.closing = true;
    let checkpointError: unknown;
    if (this.keyId && this.sinceCheckpoint > 0 && !this.writer.failed) {
      await this.checkpoint('now').catch((err: unknown) => {
        checkpointError = err;
      });
    }
    try {
      await this.writer.close();
      await this.shipper.close();
    } finally {
      openPaths.delete(resolve(this.opts.path));
    }
    if (checkpointError) throw checkpointError;
  }

  private async appendOrClose(input: AuditInput): Promise<void> {
    try {
      await this.append(input);
    } catch (err) {
      await this.close().catch(() => undefined);
      throw err;
    }
  }

  /**
   * Assigns seq/timestamp/prev/hash and queues the line (its bytes: the writer encodes it at once);
   * resolves once durable, with the line when `keep` asks for it back.
   */
  private seal(fields: readonly EncodedField[], commit: Commit, keep = false): Promise<string | undefined> {
    const { hash, line } = sealLine(fields, {
      seq: this.seq + 1,
      timestamp: new Date().toISOString(),
      replicaJson: this.replicaJson,
      prev: this.lastHash,
    });
    this.seq++;
    this.lastHash = hash;
    const queued = this.writer.enqueue(line, commit);
    // the sinks get the record as written; the line is kept only when someone will read it
    const shipping = this.shipper.active;
    if (!shipping && !keep) return queued.then(() => undefined);
    return queued.then(() => {
      if (shipping) this.shipper.offer(parseLine(line));
      return line;
    });
  }

  private checkpoint(commit: Commit): Promise<unknown> {
    const key = this.opts.signingKey!;
    this.sinceCheckpoint = 0;
    const fields = Object.entries({
      event: 'checkpoint',
      signed_seq: this.seq,
      signed_hash: this.lastHash,
      signature: signCheckpoint(key, this.seq, this.lastHash),
      key_id: this.keyId,
    }).map(([k, v]) => [k, encodePlain(v)] as const);
    return this.seal(fields, commit);
  }
}

/** Validates a caller's input and encodes it (redacted, canonical) in one pass. */
function prepare(input: AuditInput): EncodedField[] {
  if (typeof input?.event !== 'string' || input.event === '') {
    throw new AuditInputError('audit record needs an event');
  }
  if (input.event === 'checkpoint') throw new AuditInputError('checkpoints are written by the log itself');
  for (const k of ASSIGNED_FIELDS) {
    if (k in input) throw new AuditInputError(`audit field ${k} is assigned by the log`);
  }
  try {
    return encodeFields(input, targetsSecrets(input.resource, input.action));
  } catch (err) {
    throw new AuditInputError(`audit record is not JSON-serialisable: ${(err as Error).message}`);
  }
}

/** The record a line holds, frozen: what callers and sinks see is what the file says. */
function parseLine(line: string): AuditRecord {
  return deepFreeze(JSON.parse(line) as AuditRecord);
}

function validate(opts: AuditLogOptions): void {
  if (!opts.path) throw new TypeError('audit log path is required');
  const every = opts.checkpointEvery;
  if (every !== undefined && !(Number.isSafeInteger(every) && every >= 1)) {
    throw new TypeError(`checkpointEvery must be a positive integer, got ${every}`);
  }
  const key = opts.signingKey;
  if (key && (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519')) {
    throw new AuditKeyError('the audit signing key must be an Ed25519 private key');
  }
}

/**
 * The append handle: O_DSYNC, so each write() returns only once its bytes (and the file size that
 * makes them readable) are on stable storage, which is what write + fdatasync guarantees, in one
 * system call and one thread-pool round trip instead of two. datasync() has nothing left to do.
 */
async function openAppend(path: string): Promise<AppendFile> {
  const fh = await open(
    path,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_DSYNC,
    0o600,
  );
  return {
    write: (buffer) => fh.write(buffer),
    datasync: () => Promise.resolve(),
    close: () => fh.close(),
  };
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
