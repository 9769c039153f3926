// The audit log: append-only JSONL, hash-chained, signed checkpoints, group-committed fsync.
// append() resolves only once the record is on disk, so the proxy can record a decision
// before acting on it, and refuse to act when the log cannot (fail closed).
import type { KeyObject } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { type Logger, pino } from 'pino';
import { auditKeyId, recordHash, signCheckpoint } from './chain.js';
import { AuditInputError, AuditKeyError, AuditUnavailableError } from './errors.js';
import { scanForOpen, setTornTailAside } from './recover.js';
import { redact, targetsSecrets } from './redact.js';
import { Shipper } from './ship.js';
import type { SinkStatus } from './sink.js';
import type { AuditInput, AuditRecord, SinkConfig } from './types.js';
import { type AppendFile, GroupCommitWriter, type WriterStats } from './writer.js';

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
  /** Test seam: opens the append handle (default fs.promises.open(path, 'a')). */
  openFile?: (path: string) => Promise<AppendFile>;
}

// Field order of a line; extras go after these, then prev and hash. (The hash does not depend on
// it: it is over canonical JSON.)
const KNOWN_FIELDS = [
  'event',
  'request_id',
  'plan_id',
  'action',
  'resource',
  'user',
  'risk',
  'reasons',
  'status',
  'approver',
  'approvers',
  'duration_seconds',
  'policy',
] as const;
const ASSIGNED_FIELDS = new Set(['seq', 'timestamp', 'prev', 'hash', 'replica']);
const ORDERED = new Set<string>([...KNOWN_FIELDS, ...ASSIGNED_FIELDS]);
const openPaths = new Set<string>();

export class AuditLog {
  private seq: number;
  private lastHash: string;
  private sinceCheckpoint: number;
  private closing = false;
  private readonly keyId: string | undefined;
  private readonly every: number;

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
    const log = new AuditLog(opts, new GroupCommitWriter(file, opts.fsync ?? 'group'), shipper, scan);
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
   * Appends one record; resolves with it once it is written and fsynced. seq, prev and hash are
   * assigned synchronously, so records are in call order. Rejects with AuditUnavailableError
   * when the log has failed or is closed (and on the first failure itself).
   */
  append(input: AuditInput): Promise<AuditRecord> {
    if (this.closing) return Promise.reject(new AuditUnavailableError('audit log is closed'));
    const failure = this.writer.failed;
    if (failure) return Promise.reject(failure);
    let fields: Record<string, unknown>;
    try {
      fields = this.prepare(input);
    } catch (err) {
      return Promise.reject(err);
    }
    const done = this.seal(fields);
    if (this.keyId && ++this.sinceCheckpoint >= this.every) {
      // Same tick, so it joins the same batch; its failure is the same failure as the record's.
      this.checkpoint().catch(() => undefined);
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
      await this.checkpoint().catch((err: unknown) => {
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

  /** Validates, normalises to plain JSON and redacts a caller's input. */
  private prepare(input: AuditInput): Record<string, unknown> {
    if (typeof input?.event !== 'string' || input.event === '') {
      throw new AuditInputError('audit record needs an event');
    }
    if (input.event === 'checkpoint') throw new AuditInputError('checkpoints are written by the log itself');
    for (const k of ['seq', 'timestamp', 'prev', 'hash']) {
      if (k in input) throw new AuditInputError(`audit field ${k} is assigned by the log`);
    }
    let plain: Record<string, unknown>;
    try {
      // The line, the hash and the sinks must all see the same plain JSON values.
      plain = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
    } catch (err) {
      throw new AuditInputError(`audit record is not JSON-serialisable: ${(err as Error).message}`);
    }
    const secrets = targetsSecrets(input.resource, input.action);
    return redact(plain, secrets ? 'secrets' : undefined);
  }

  /** Assigns seq/timestamp/prev/hash in the documented field order and queues the line. */
  private seal(fields: Record<string, unknown>): Promise<AuditRecord> {
    const rec: Record<string, unknown> = { seq: this.seq + 1, timestamp: new Date().toISOString() };
    for (const k of KNOWN_FIELDS) if (fields[k] !== undefined) rec[k] = fields[k];
    const replica = this.opts.replica ?? fields.replica;
    if (replica !== undefined) rec.replica = replica;
    for (const [k, v] of Object.entries(fields)) if (!ORDERED.has(k) && v !== undefined) rec[k] = v;
    rec.prev = this.lastHash;
    rec.hash = recordHash(rec);
    // Frozen: the same object goes to the caller and to every sink, and must match the file.
    const record = deepFreeze(rec) as AuditRecord;
    this.seq = record.seq;
    this.lastHash = record.hash;
    return this.writer.enqueue(`${JSON.stringify(record)}\n`).then(() => {
      this.shipper.offer(record);
      return record;
    });
  }

  private checkpoint(): Promise<AuditRecord> {
    const key = this.opts.signingKey!;
    this.sinceCheckpoint = 0;
    return this.seal({
      event: 'checkpoint',
      signed_seq: this.seq,
      signed_hash: this.lastHash,
      signature: signCheckpoint(key, this.seq, this.lastHash),
      key_id: this.keyId,
    });
  }
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

async function openAppend(path: string): Promise<AppendFile> {
  return open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
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
