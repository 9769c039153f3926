// Opening after a crash: a torn tail is set aside and recorded; damage anywhere else is refused.
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditCorruptError } from '../../../src/audit/errors.js';
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
  const log = await AuditLog.open({ path, signingKey: privateKey, checkpointEvery: 3, logger: silent });
  for (let i = 1; i <= 5; i++) await log.append({ event: 'received', request_id: `req-${i}` });
  await log.close(); // seq 1..7: checkpoints at 4 and 7
});
afterEach(() => cleanup());

async function tornFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.includes('.torn-'));
}

describe('torn final line', () => {
  it('is moved aside, recorded in a recovered event, and the chain continues', async () => {
    const before = await readFile(path);
    const half = '{"seq":8,"timestamp":"2026-01-01T00:00:00.000Z","event":"rec';
    await appendFile(path, half);

    const log = await AuditLog.open({ path, signingKey: privateKey, checkpointEvery: 3, logger: silent });
    expect(log.lastSeq).toBe(8);
    const next = await log.append({ event: 'received', request_id: 'after' });
    await log.close();

    const recs = await records(path);
    const recovered = recs[7]!;
    expect(recovered).toMatchObject({
      seq: 8,
      event: 'recovered',
      status: 'success',
      torn_bytes: half.length,
    });
    expect(next.seq).toBe(9);
    // Every acknowledged byte is still there, unchanged.
    expect((await readFile(path)).subarray(0, before.length).equals(before)).toBe(true);
    const [torn] = await tornFiles();
    expect(recovered.torn_path).toBe(join(dir, torn!));
    expect(await readFile(join(dir, torn!), 'utf8')).toBe(half);
    expect(await verifyAuditFile(path, publicKey)).toMatchObject({ ok: true, tornBytes: 0 });
  });

  it('also covers a garbage final line with a newline (NULs from a crash)', async () => {
    await appendFile(path, Buffer.concat([Buffer.alloc(40), Buffer.from('\n')]));
    const log = await AuditLog.open({ path, logger: silent });
    await log.close();
    const recs = await records(path);
    expect(recs.at(-1)).toMatchObject({ seq: 8, event: 'recovered', torn_bytes: 41 });
    expect((await verifyAuditFile(path)).ok).toBe(true);
  });

  it('leaves a clean file alone', async () => {
    const before = await readFile(path);
    const log = await AuditLog.open({ path, logger: silent });
    await log.close();
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await tornFiles()).toEqual([]);
  });
});

describe('mid-file damage', () => {
  async function expectRefused(seq: number): Promise<void> {
    const before = await readFile(path);
    const err = await AuditLog.open({ path, logger: silent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditCorruptError);
    expect((err as AuditCorruptError).seq).toBe(seq);
    expect((err as Error).message).toContain(`seq ${seq}`);
    // Not "repaired": the file is exactly as found, nothing set aside.
    expect((await readFile(path)).equals(before)).toBe(true);
    expect(await tornFiles()).toEqual([]);
  }

  it('refuses an edited record, naming its seq', async () => {
    const lines = await fileLines(path);
    lines[2] = lines[2]!.replace('req-3', 'req-9');
    await writeLines(path, lines);
    await expectRefused(3);
  });

  it('refuses a garbage line followed by real records', async () => {
    const lines = await fileLines(path);
    lines[1] = 'garbage';
    await writeLines(path, lines);
    await expectRefused(2);
  });

  it('refuses a final complete line that parses but does not verify (not a crash artefact)', async () => {
    const lines = await fileLines(path);
    const last = JSON.parse(lines[6]!) as Record<string, unknown>;
    lines[6] = JSON.stringify({ ...last, hash: 'a'.repeat(64) });
    await writeLines(path, lines);
    await expectRefused(7);
  });

  it('refuses a deleted record in the middle', async () => {
    const lines = await fileLines(path);
    lines.splice(1, 1);
    await writeFile(path, `${lines.join('\n')}\n`);
    await expectRefused(2);
  });
});
