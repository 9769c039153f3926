// Verifies records one line at a time, in file order. Used by AuditLog.open() (recovery) and by
// `kubegate audit verify`, so both accept exactly the same files.
import type { KeyObject } from 'node:crypto';
import { auditKeyId, checkpointSignatureValid, GENESIS_PREV, recordHash } from './chain.js';
import type { AuditRecord } from './types.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses one line into a record, or undefined when it is not JSON or lacks the chain fields. */
export function parseRecord(text: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const r = value as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || typeof r.prev !== 'string' || typeof r.hash !== 'string')
    return undefined;
  if (typeof r.event !== 'string' || typeof r.timestamp !== 'string') return undefined;
  return r as AuditRecord;
}

export type CheckResult = { ok: true; record: AuditRecord } | { ok: false; seq: number; reason: string };

export class ChainChecker {
  /** seq the next line must have. */
  expectedSeq = 1;
  /** hash of the last verified record (the next line's prev). */
  lastHash = GENESIS_PREV;
  records = 0;
  checkpoints = 0;
  lastCheckpointSeq = 0;
  /** Verified records after the last checkpoint (they are chained but no signature covers them). */
  afterLastCheckpoint = 0;
  private readonly keys: Map<string, KeyObject> | undefined;

  /** With keys, checkpoint signatures are verified; without, only the chain is. */
  constructor(publicKeys?: KeyObject[]) {
    this.keys = publicKeys?.length ? new Map(publicKeys.map((k) => [auditKeyId(k), k])) : undefined;
  }

  get signaturesVerified(): boolean {
    return this.keys !== undefined;
  }

  get lastSeq(): number {
    return this.expectedSeq - 1;
  }

  check(text: string): CheckResult {
    const seq = this.expectedSeq;
    const record = parseRecord(text);
    if (!record) return { ok: false, seq, reason: 'unparsable line (not a JSON audit record)' };
    if (record.seq !== seq) {
      const why = record.seq > seq ? `records ${seq}..${record.seq - 1} missing` : 'out of order or repeated';
      return { ok: false, seq, reason: `seq gap: expected ${seq}, found ${record.seq} (${why})` };
    }
    if (record.prev !== this.lastHash) {
      return { ok: false, seq, reason: 'prev mismatch: does not chain to the record before it' };
    }
    const { hash, ...rest } = record;
    if (!HEX64.test(hash) || recordHash(rest) !== hash) {
      return { ok: false, seq, reason: 'hash mismatch: record content was changed' };
    }
    if (record.event === 'checkpoint') {
      const bad = this.checkCheckpoint(record);
      if (bad) return { ok: false, seq, reason: bad };
      this.checkpoints++;
      this.lastCheckpointSeq = seq;
      this.afterLastCheckpoint = 0;
    } else {
      this.afterLastCheckpoint++;
    }
    this.records++;
    this.expectedSeq = seq + 1;
    this.lastHash = hash;
    return { ok: true, record };
  }

  private checkCheckpoint(r: AuditRecord): string | undefined {
    const { signed_seq, signed_hash, signature, key_id } = r;
    if (
      typeof signed_seq !== 'number' ||
      typeof signed_hash !== 'string' ||
      typeof signature !== 'string' ||
      typeof key_id !== 'string'
    ) {
      return 'malformed checkpoint (signed_seq, signed_hash, signature, key_id required)';
    }
    if (signed_seq !== r.seq - 1 || signed_hash !== r.prev) {
      return 'checkpoint does not sign the record before it';
    }
    if (!this.keys) return undefined;
    const key = this.keys.get(key_id);
    if (!key) return `bad signature: checkpoint signed by key ${key_id}, not by the given key`;
    if (!checkpointSignatureValid(key, signed_seq, signed_hash, signature)) {
      return 'bad signature: checkpoint signature does not verify';
    }
    return undefined;
  }
}
