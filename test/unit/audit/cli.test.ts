// `kubegate audit verify|export|tail` through runAuditCommand, as the CLI calls it.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runAuditCommand } from '../../../src/audit/cli.js';
import { generateAuditKey, loadAuditKey } from '../../../src/audit/keys.js';
import { AuditLog } from '../../../src/audit/log.js';
import { parseTimeArg, TimeArgError } from '../../../src/audit/time-arg.js';
import { fileLines, silent, sink, tempDir, writeLines } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let path: string;
let pubPath: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, 'actions-log.jsonl');
  const key = await generateAuditKey(join(dir, 'keys'));
  pubPath = key.publicKeyPath;
  const log = await AuditLog.open({
    path,
    signingKey: await loadAuditKey(key.privateKeyPath),
    checkpointEvery: 5,
    logger: silent,
  });
  for (let i = 0; i < 12; i++) await log.append({ event: 'received', request_id: `req-${i}` });
  await log.close(); // 12 records + checkpoints at 6, 12(+1)… = 15 lines
});
afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

async function run(...argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await runAuditCommand(argv, { stdout: out.stream, stderr: err.stream });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('verify', () => {
  it('exits 0 on an intact file and says whether signatures were checked', async () => {
    const withKey = await run('verify', path, '--key', pubPath);
    expect(withKey.code).toBe(0);
    expect(withKey.stdout).toMatch(/OK: 15 records \(seq 1\.\.15\), 3 checkpoints/);
    expect(withKey.stdout).toMatch(/signatures verified with key [0-9a-f]{16}/);
    expect(withKey.stdout).toMatch(/removed from the END of a file cannot be detected/);

    const noKey = await run('verify', path);
    expect(noKey.code).toBe(0);
    expect(noKey.stdout).toMatch(/signatures NOT verified/);
  });

  it('exits 1 and names the first bad seq and why', async () => {
    const lines = await fileLines(path);
    lines[4] = lines[4]!.replace('req-4', 'req-x');
    await writeLines(path, lines);
    const r = await run('verify', path, '--key', pubPath);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED at seq 5: hash mismatch/);
  });

  it('reports a bad signature with --key', async () => {
    const other = await generateAuditKey(join(dir, 'other'));
    const r = await run('verify', path, '--key', other.publicKeyPath);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/FAILED at seq 6: bad signature/);
  });

  it('verifies several files (one per replica) each on its own', async () => {
    const second = join(dir, 'replica-b.jsonl');
    const lines = await fileLines(path);
    await writeLines(second, [lines[0]!, lines[2]!]);
    const r = await run('verify', path, second);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${path}: OK`);
    expect(r.stderr).toContain(`${second}: FAILED at seq 2: seq gap`);
  });

  it('counts unsigned records after the last checkpoint and mentions a torn tail', async () => {
    const lines = await fileLines(path);
    await writeFile(path, `${lines.slice(0, 9).join('\n')}\n{"seq":10,"tim`);
    const r = await run('verify', path);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 records after the last checkpoint \(seq 6\) are chained but not signed/);
    expect(r.stdout).toMatch(/14 bytes after the last newline/);
  });

  it('exits 2 on usage errors and unreadable files', async () => {
    expect((await run('verify')).code).toBe(2);
    expect((await run('frobnicate')).code).toBe(2);
    const missing = await run('verify', join(dir, 'nope.jsonl'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot verify/);
  });
});

describe('export', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2026-03-01T12:00:00.000Z');

  /** Records stamped 40d, 20d, 1d and 1h before `now`. */
  async function writeDated(): Promise<string> {
    const p = join(dir, 'dated.jsonl');
    vi.useFakeTimers({ toFake: ['Date'] });
    const log = await AuditLog.open({ path: p, logger: silent });
    for (const [ago, id] of [
      [40 * DAY, 'old'],
      [20 * DAY, 'mid'],
      [DAY, 'recent'],
      [3_600_000, 'latest'],
    ] as const) {
      vi.setSystemTime(now - ago);
      await log.append({ event: 'received', request_id: id });
    }
    await log.close();
    vi.setSystemTime(now);
    return p;
  }

  it('selects by --since/--until with durations or ISO times, printing the original lines', async () => {
    const p = await writeDated();
    const lines = await fileLines(p);
    const last30d = await run('export', p, '--since', '30d');
    expect(last30d.code).toBe(0);
    expect(last30d.stdout).toBe(`${lines.slice(1).join('\n')}\n`);

    const window = await run('export', p, '--since', '30d', '--until', '12h');
    expect(
      window.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).request_id),
    ).toEqual(['mid', 'recent']);

    const iso = await run('export', p, '--since', '2026-01-01T00:00:00Z', '--until', '2026-02-01');
    expect(
      iso.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).request_id),
    ).toEqual(['old']);
  });

  it('writes to --out, and rejects bad times with exit 2', async () => {
    const p = await writeDated();
    const out = join(dir, 'export.jsonl');
    const r = await run('export', p, '--since', '2d', '--out', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/2 records written/);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toHaveLength(2);
    const bad = await run('export', p, '--since', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a time/);
  });

  it('parses durations and ISO 8601 (zone-less means UTC)', () => {
    expect(parseTimeArg('30d', now).toISOString()).toBe('2026-01-30T12:00:00.000Z');
    expect(parseTimeArg('12h', now).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(parseTimeArg('15m', now).toISOString()).toBe('2026-03-01T11:45:00.000Z');
    expect(parseTimeArg('2026-02-03T04:05:06', now).toISOString()).toBe('2026-02-03T04:05:06.000Z');
    expect(parseTimeArg('2026-02-03T04:05:06+02:00', now).toISOString()).toBe('2026-02-03T02:05:06.000Z');
    expect(() => parseTimeArg('30 days', now)).toThrow(TimeArgError);
  });
});

describe('tail', () => {
  it('prints the last N lines', async () => {
    const lines = await fileLines(path);
    const r = await run('tail', path, '-n', '3');
    expect(r.stdout).toBe(`${lines.slice(-3).join('\n')}\n`);
    expect((await run('tail', path)).stdout.trim().split('\n')).toHaveLength(10);
  });

  it('follows new records with -f until stopped', async () => {
    const out = sink();
    const ac = new AbortController();
    const done = runAuditCommand(['tail', path, '-f', '-n', '1'], {
      stdout: out.stream,
      stderr: sink().stream,
      signal: ac.signal,
    });
    const log = await AuditLog.open({ path, logger: silent });
    await log.append({ event: 'executed', request_id: 'followed-1' });
    await log.append({ event: 'executed', request_id: 'followed-2' });
    await log.close();
    await vi.waitFor(() => expect(out.text()).toContain('followed-2'), { timeout: 3000, interval: 50 });
    ac.abort();
    expect(await done).toBe(0);
    const shown = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).seq);
    expect(shown).toEqual([15, 16, 17]);
  });
});
