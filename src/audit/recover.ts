// Crash recovery for AuditLog.open(): verify the whole file, set a torn tail aside, and refuse
// files that are damaged anywhere else (that is tampering or disk corruption, not a crash).
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ChainChecker, parseRecord } from './check.js';
import { AuditCorruptError } from './errors.js';
import { readLines } from './lines.js';

export interface ScanResult {
  exists: boolean;
  lastSeq: number;
  lastHash: string;
  /** Non-checkpoint records after the last checkpoint (so the checkpoint cadence continues). */
  sinceCheckpoint: number;
  /** Bytes from `offset` to the end are an unfinished write to be set aside. */
  torn?: { offset: number; bytes: number };
}

/**
 * A crash can only damage what was written after the last fsync: the end of the file. So the
 * bad region counts as torn only when it reaches the end and holds no record-shaped line;
 * a bad line followed by real records is mid-file damage and the open is refused.
 */
export async function scanForOpen(path: string): Promise<ScanResult> {
  const size = await fileSize(path);
  if (size === undefined) return { exists: false, lastSeq: 0, lastHash: '0'.repeat(64), sinceCheckpoint: 0 };
  const checker = new ChainChecker();
  let badAt: { offset: number; seq: number; reason: string } | undefined;
  for await (const line of readLines(path)) {
    if (badAt) {
      if (parseRecord(line.text)) {
        throw new AuditCorruptError(path, badAt.seq, `${badAt.reason}, and valid-looking records follow it`);
      }
      continue;
    }
    if (!line.complete) {
      badAt = { offset: line.offset, seq: checker.expectedSeq, reason: 'torn final line' };
      break;
    }
    const result = checker.check(line.text);
    if (!result.ok) {
      // A complete line that parses but does not verify was not torn by a crash.
      if (parseRecord(line.text)) throw new AuditCorruptError(path, result.seq, result.reason);
      badAt = { offset: line.offset, seq: result.seq, reason: result.reason };
    }
  }
  return {
    exists: true,
    lastSeq: checker.lastSeq,
    lastHash: checker.lastHash,
    sinceCheckpoint: checker.afterLastCheckpoint,
    ...(badAt && { torn: { offset: badAt.offset, bytes: size - badAt.offset } }),
  };
}

/**
 * Copies the torn bytes to `<path>.torn-<timestamp>` (durably, first), then truncates the log
 * to the last good newline. Returns the path the bytes were saved to.
 */
export async function setTornTailAside(path: string, offset: number, bytes: number): Promise<string> {
  const tornPath = `${path}.torn-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const src = await open(path, 'r+');
  try {
    const buf = Buffer.alloc(bytes);
    await src.read(buf, 0, bytes, offset);
    const dst = await open(tornPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await dst.writeFile(buf);
      await dst.sync();
    } finally {
      await dst.close();
    }
    await src.truncate(offset);
    await src.sync();
  } finally {
    await src.close();
  }
  return tornPath;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
