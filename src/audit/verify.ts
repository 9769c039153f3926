// `kubegate audit verify`: re-derives the chain of one file and checks checkpoint signatures.
import type { KeyObject } from 'node:crypto';
import { PasskeyAuditCheck } from '../passkey/offline.js';
import { ChainChecker } from './check.js';
import { readLines } from './lines.js';

export interface VerifyResult {
  ok: boolean;
  /** Records verified (up to the first bad one). */
  records: number;
  firstBadSeq?: number;
  reason?: string;
  checkpoints: number;
  /** Records after the last checkpoint: chained, but no signature vouches for them. */
  afterLastCheckpoint: number;
  /** seq of the last checkpoint (0 when none). */
  lastCheckpointSeq: number;
  lastSeq: number;
  lastHash: string;
  /** False when no public key was given: checkpoints were only checked for consistency. */
  signaturesVerified: boolean;
  /** Bytes after the last newline: an unfinished write (crash); not a record, not a failure. */
  tornBytes: number;
  /** Passkey assertions re-checked against the passkeys enrolled in the log. */
  passkeyAssertions: number;
}

/**
 * Verifies one audit file. The chain catches any edit, deletion, insertion or reordering of
 * records; with a public key, signed checkpoints also stop anyone without the audit key from
 * rewriting the chain. Dropping records from the END of a file cannot be told apart from a
 * shorter file — compare `lastSeq` with a shipped copy to catch that.
 */
export async function verifyAuditFile(
  path: string,
  publicKey?: KeyObject | KeyObject[],
): Promise<VerifyResult> {
  const keys = publicKey === undefined ? undefined : Array.isArray(publicKey) ? publicKey : [publicKey];
  const checker = new ChainChecker(keys);
  const passkeys = new PasskeyAuditCheck();
  let bad: { seq: number; reason: string } | undefined;
  let tornBytes = 0;
  for await (const line of readLines(path)) {
    if (!line.complete) {
      tornBytes = line.end - line.offset;
      break;
    }
    const result = checker.check(line.text);
    if (!result.ok) {
      bad = result;
      break;
    }
    const passkeyBad = await passkeys.check(result.record);
    if (passkeyBad) {
      bad = { seq: result.record.seq, reason: passkeyBad };
      break;
    }
  }
  return {
    ok: bad === undefined,
    records: checker.records,
    ...(bad && { firstBadSeq: bad.seq, reason: bad.reason }),
    checkpoints: checker.checkpoints,
    afterLastCheckpoint: checker.afterLastCheckpoint,
    lastCheckpointSeq: checker.lastCheckpointSeq,
    lastSeq: checker.lastSeq,
    lastHash: checker.lastHash,
    signaturesVerified: checker.signaturesVerified,
    tornBytes,
    passkeyAssertions: passkeys.checked,
  };
}
