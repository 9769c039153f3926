// The hash chain and signed checkpoints: what verify catches, and what it honestly cannot.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_PREV, recordHash } from '../../../src/audit/chain.js';
import { AuditInputError } from '../../../src/audit/errors.js';
import { AuditLog } from '../../../src/audit/log.js';
import { verifyAuditFile } from '../../../src/audit/verify.js';
import { fileLines, keyPair, records, silent, tempDir, writeLines } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let path: string;
const { privateKey, publicKey } = keyPair();

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, 'actions-log.jsonl');
});
afterEach(() => cleanup());

/** 10 requests with checkpointEvery 4: checkpoints land at seq 5, 10, and the closing one at 13. */
async function writeSample(): Promise<void> {
  const log = await AuditLog.open({ path, signingKey: privateKey, checkpointEvery: 4, logger: silent });
  for (let i = 0; i < 10; i++) {
    await log.append({
      event: i % 2 ? 'executed' : 'received',
      request_id: `req-${i}`,
      action: 'patch apps/v1 deployments/scale',
      resource: 'default/deployments/api',
      user: 'alice',
      risk: 'MEDIUM',
      status: i === 7 ? 'failed' : 'success',
    });
  }
  await log.close();
}

/** Re-hashes every line, as someone with write access but without the audit key could. */
function rechain(lines: string[]): string[] {
  let prev = GENESIS_PREV;
  return lines.map((line) => {
    const { hash: _old, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const rec: Record<string, unknown> = { ...rest, prev };
    // Checkpoints keep their (now stale) signature: only the key holder could renew it.
    if (rec.event === 'checkpoint') rec.signed_hash = prev;
    rec.hash = recordHash(rec);
    prev = rec.hash as string;
    return JSON.stringify(rec);
  });
}

describe('record format', () => {
  it('writes compact, grep-able JSONL in the documented field order, omitting absent fields', async () => {
    const log = await AuditLog.open({ path, replica: 'kubegate-0', logger: silent });
    const r = await log.append({
      event: 'executed',
      request_id: 'req-1',
      user: 'alice',
      status: 'failed',
      http_status: 500,
      duration_seconds: 0.25,
    });
    await log.close();
    const [line] = await fileLines(path);
    expect(line).toContain('"status":"failed"');
    expect(Object.keys(JSON.parse(line!))).toEqual([
      'seq',
      'timestamp',
      'event',
      'request_id',
      'user',
      'status',
      'duration_seconds',
      'replica',
      'http_status',
      'prev',
      'hash',
    ]);
    expect(r.seq).toBe(1);
    expect(r.prev).toBe(GENESIS_PREV);
    expect(r.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const { hash, ...rest } = r;
    expect(hash).toBe(recordHash(rest));
    // The returned record is the one the sinks get: nobody may change it afterwards.
    expect(Object.isFrozen(r)).toBe(true);
  });

  it('rejects fields the log assigns, caller-made checkpoints and non-JSON values', async () => {
    const log = await AuditLog.open({ path, logger: silent });
    await expect(log.append({ event: 'received', seq: 7 })).rejects.toBeInstanceOf(AuditInputError);
    await expect(log.append({ event: 'checkpoint' })).rejects.toBeInstanceOf(AuditInputError);
    await expect(log.append({ event: 'received', n: 1n })).rejects.toBeInstanceOf(AuditInputError);
    await expect(log.append({ event: '' })).rejects.toBeInstanceOf(AuditInputError);
    // A bad input is the caller's bug, not an unavailable log.
    expect(log.healthy).toBe(true);
    expect((await log.append({ event: 'received' })).seq).toBe(1);
    await log.close();
  });
});

describe('checkpoints', () => {
  it('signs every N records and on close, each chained like any record', async () => {
    await writeSample();
    const recs = await records(path);
    const cps = recs.filter((r) => r.event === 'checkpoint');
    expect(cps.map((c) => c.seq)).toEqual([5, 10, 13]);
    for (const cp of cps) {
      const before = recs[(cp.seq as number) - 2]!;
      expect(cp.signed_seq).toBe(before.seq);
      expect(cp.signed_hash).toBe(before.hash);
      expect(cp.prev).toBe(before.hash);
      expect(cp.key_id).toMatch(/^[0-9a-f]{16}$/);
    }
    const v = await verifyAuditFile(path, publicKey);
    expect(v).toMatchObject({ ok: true, records: 13, checkpoints: 3, afterLastCheckpoint: 0, lastSeq: 13 });
    expect(v.signaturesVerified).toBe(true);
  });

  it('continues the chain and the cadence after a reopen, and adds no empty checkpoint on close', async () => {
    await writeSample();
    const log = await AuditLog.open({ path, signingKey: privateKey, checkpointEvery: 4, logger: silent });
    expect(log.lastSeq).toBe(13);
    for (let i = 0; i < 4; i++) await log.append({ event: 'received' });
    await log.close();
    const again = await AuditLog.open({ path, signingKey: privateKey, checkpointEvery: 4, logger: silent });
    await again.close();
    const recs = await records(path);
    expect(recs.map((r) => r.event).slice(13)).toEqual([
      'received',
      'received',
      'received',
      'received',
      'checkpoint',
    ]);
    expect(recs).toHaveLength(18);
    expect((await verifyAuditFile(path, publicKey)).ok).toBe(true);
  });

  it('writes no checkpoints without a key (the chain alone remains)', async () => {
    const log = await AuditLog.open({ path, checkpointEvery: 2, logger: silent });
    for (let i = 0; i < 5; i++) await log.append({ event: 'received' });
    await log.close();
    const v = await verifyAuditFile(path);
    expect(v).toMatchObject({ ok: true, records: 5, checkpoints: 0, afterLastCheckpoint: 5 });
    expect(v.signaturesVerified).toBe(false);
  });
});

describe('verify detects', () => {
  beforeEach(writeSample);

  it('a flipped byte, naming the seq', async () => {
    const lines = await fileLines(path);
    lines[3] = lines[3]!.replace('req-3', 'req-X');
    await writeLines(path, lines);
    const v = await verifyAuditFile(path, publicKey);
    expect(v).toMatchObject({ ok: false, firstBadSeq: 4, records: 3 });
    expect(v.reason).toMatch(/hash mismatch/);
  });

  it('a deleted line', async () => {
    const lines = await fileLines(path);
    lines.splice(6, 1); // seq 7
    await writeLines(path, lines);
    const v = await verifyAuditFile(path);
    expect(v).toMatchObject({ ok: false, firstBadSeq: 7 });
    expect(v.reason).toMatch(/seq gap: expected 7, found 8/);
  });

  it('two swapped lines', async () => {
    const lines = await fileLines(path);
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    await writeLines(path, lines);
    const v = await verifyAuditFile(path);
    expect(v).toMatchObject({ ok: false, firstBadSeq: 2 });
    expect(v.reason).toMatch(/seq gap/);
  });

  it('an edited prev (the line re-hashed, so only the link is broken)', async () => {
    const lines = await fileLines(path);
    const { hash: _h, ...rec } = JSON.parse(lines[2]!) as Record<string, unknown>;
    const rest = { ...rec, prev: 'f'.repeat(64) };
    lines[2] = JSON.stringify({ ...rest, hash: recordHash(rest) });
    await writeLines(path, lines);
    const v = await verifyAuditFile(path);
    expect(v).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(v.reason).toMatch(/prev mismatch/);
  });

  it('an unparsable line', async () => {
    const lines = await fileLines(path);
    lines[4] = '{"seq":5, oops';
    await writeLines(path, lines);
    expect(await verifyAuditFile(path)).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: expect.stringMatching(/unparsable/),
    });
  });

  it('records removed before a checkpoint that was kept', async () => {
    const lines = await fileLines(path);
    lines.splice(7, 2); // seq 8, 9; the checkpoint at seq 10 stays
    await writeLines(path, lines);
    expect(await verifyAuditFile(path, publicKey)).toMatchObject({ ok: false, firstBadSeq: 8 });
  });

  it('a rewritten chain, but only with the key: the signatures no longer match', async () => {
    const lines = await fileLines(path);
    lines[1] = lines[1]!.replace('"user":"alice"', '"user":"mallory"');
    await writeLines(path, rechain(lines));
    // Without the key, a consistent re-hash is indistinguishable from the original.
    expect((await verifyAuditFile(path)).ok).toBe(true);
    const v = await verifyAuditFile(path, publicKey);
    expect(v).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(v.reason).toMatch(/bad signature/);
  });

  it('a forged signature, and a checkpoint signed by another key', async () => {
    const lines = await fileLines(path);
    const cp = JSON.parse(lines[4]!) as Record<string, string>;
    const sig = Buffer.from(cp.signature!, 'base64');
    sig[0]! ^= 0xff;
    lines[4] = JSON.stringify({ ...cp, signature: sig.toString('base64') });
    await writeLines(path, rechain(lines));
    const forged = await verifyAuditFile(path, publicKey);
    expect(forged).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: expect.stringMatching(/bad signature/),
    });

    await cleanup();
    ({ dir, cleanup } = await tempDir());
    path = join(dir, 'actions-log.jsonl');
    await writeSample();
    const other = keyPair().publicKey;
    const v = await verifyAuditFile(path, other);
    expect(v).toMatchObject({
      ok: false,
      firstBadSeq: 5,
      reason: expect.stringMatching(/not by the given key/),
    });
    // Several keys (rotation): the right one is picked by key_id.
    expect((await verifyAuditFile(path, [other, publicKey])).ok).toBe(true);
  });
});

describe('truncation: what the file alone can and cannot show', () => {
  beforeEach(writeSample);

  it('cutting records after the last checkpoint leaves a valid (shorter) file; the note counts them', async () => {
    const lines = await fileLines(path);
    // Drop the closing checkpoint (13) and records 11–12: the file ends at the checkpoint at 10.
    await writeLines(path, lines.slice(0, 10));
    const v = await verifyAuditFile(path, publicKey);
    expect(v).toMatchObject({ ok: true, lastSeq: 10, lastCheckpointSeq: 10, afterLastCheckpoint: 0 });
    // Only an outside copy of the last seq/hash (a shipped record) reveals it.
    expect(v.lastSeq).toBeLessThan(13);
  });

  it('a file ending without a checkpoint reports the unsigned records after the last one', async () => {
    const lines = await fileLines(path);
    await writeLines(path, lines.slice(0, 12));
    expect(await verifyAuditFile(path, publicKey)).toMatchObject({
      ok: true,
      lastCheckpointSeq: 10,
      afterLastCheckpoint: 2,
    });
  });

  it('removing the first records breaks the genesis link', async () => {
    const lines = await fileLines(path);
    await writeLines(path, lines.slice(2));
    expect(await verifyAuditFile(path)).toMatchObject({ ok: false, firstBadSeq: 1 });
  });
});
