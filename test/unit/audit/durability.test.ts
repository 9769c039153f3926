// Write-ahead durability: group commit, call-order seqs, and failing closed when the disk fails.
import { constants } from 'node:fs';
import { open, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditUnavailableError } from '../../../src/audit/errors.js';
import { AuditLog } from '../../../src/audit/log.js';
import { verifyAuditFile } from '../../../src/audit/verify.js';
import type { AppendFile } from '../../../src/audit/writer.js';
import { fileLines, silent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let path: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, 'actions-log.jsonl');
});
afterEach(() => cleanup());

/** A real append handle with hooks: slow fsyncs, failures on demand, short writes. */
async function instrumented(opts: { fsyncDelayMs?: number; maxWrite?: number } = {}) {
  const calls = { writes: 0, fsyncs: 0 };
  let failNext: Error | undefined;
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  const openFile = async (p: string): Promise<AppendFile> => {
    handle = await open(p, 'a', 0o600);
    const fh = handle;
    return {
      async write(buf) {
        calls.writes++;
        if (failNext) throw failNext;
        return fh.write(opts.maxWrite ? buf.subarray(0, opts.maxWrite) : buf);
      },
      async datasync() {
        calls.fsyncs++;
        if (opts.fsyncDelayMs) await new Promise((r) => setTimeout(r, opts.fsyncDelayMs));
        if (failNext) throw failNext;
        await fh.datasync();
      },
      close: () => fh.close(),
    };
  };
  return {
    openFile,
    calls,
    failWith: (err: Error) => {
      failNext = err;
    },
    handle: () => handle!,
  };
}

describe('group commit', () => {
  it('200 concurrent appends: call-order seqs, resolved in order, far fewer fsyncs than records', async () => {
    const log = await AuditLog.open({ path, logger: silent });
    const resolvedOrder: number[] = [];
    const all = Array.from({ length: 200 }, (_, i) =>
      log.append({ event: 'received', request_id: `req-${i}` }).then((r) => {
        resolvedOrder.push(r.seq);
        return r;
      }),
    );
    const recs = await Promise.all(all);
    recs.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      expect(r.request_id).toBe(`req-${i}`);
    });
    expect(resolvedOrder).toEqual(recs.map((r) => r.seq));
    expect(log.stats.records).toBe(200);
    expect(log.stats.fsyncs).toBeLessThanOrEqual(3);
    await log.close();
    expect(await fileLines(path)).toHaveLength(200);
    expect((await verifyAuditFile(path)).ok).toBe(true);
  });

  it('batches everything queued while an fsync is running', async () => {
    const io = await instrumented({ fsyncDelayMs: 30 });
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile });
    const first = log.append({ event: 'received' });
    await new Promise((r) => setTimeout(r, 5)); // first batch is now inside its fsync
    const wave = Array.from({ length: 50 }, () => log.append({ event: 'received' }));
    await Promise.all([first, ...wave]);
    expect(io.calls.fsyncs).toBe(2);
    expect(log.stats.maxBatch).toBe(50);
    await log.close();
  });

  it("fsync: 'each' makes one write+fsync per record (the benchmark baseline)", async () => {
    const log = await AuditLog.open({ path, logger: silent, fsync: 'each' });
    await Promise.all(Array.from({ length: 20 }, () => log.append({ event: 'received' })));
    expect(log.stats.fsyncs).toBe(20);
    await log.close();
  });

  it('finishes short writes', async () => {
    const io = await instrumented({ maxWrite: 7 });
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile });
    await Promise.all(Array.from({ length: 5 }, (_, i) => log.append({ event: 'received', n: i })));
    await log.close();
    expect(await fileLines(path)).toHaveLength(5);
    expect((await verifyAuditFile(path)).ok).toBe(true);
    expect(io.calls.writes).toBeGreaterThan(5);
  });
});

describe('fail closed', () => {
  it('an fsync error rejects the batch with AuditUnavailableError, and every later append at once', async () => {
    const io = await instrumented();
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile });
    await log.append({ event: 'received' });
    expect(log.healthy).toBe(true);

    io.failWith(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    const batch = await Promise.allSettled([log.append({ event: 'held' }), log.append({ event: 'held' })]);
    for (const r of batch) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(AuditUnavailableError);
    }
    expect(log.healthy).toBe(false);

    const writesBefore = io.calls.writes;
    const later = await log.append({ event: 'received' }).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(AuditUnavailableError);
    expect((later as Error).message).toMatch(/EIO/);
    expect(io.calls.writes).toBe(writesBefore); // refused without touching the disk
    await log.close();
  });

  it('a file handle closed underneath (EBADF) fails closed too', async () => {
    const io = await instrumented();
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile });
    await log.append({ event: 'received' });
    await io.handle().close();
    await expect(log.append({ event: 'forwarded' })).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(log.healthy).toBe(false);
    await expect(log.append({ event: 'forwarded' })).rejects.toBeInstanceOf(AuditUnavailableError);
  });

  it('after a failure, close() and open() again resume the same chain', async () => {
    const io = await instrumented();
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile });
    await log.append({ event: 'received' });
    io.failWith(new Error('ENOSPC: no space left on device'));
    await expect(log.append({ event: 'held' })).rejects.toBeInstanceOf(AuditUnavailableError);
    await log.close();

    const reopened = await AuditLog.open({ path, logger: silent });
    expect(reopened.healthy).toBe(true);
    const next = await reopened.append({ event: 'received' });
    expect(next.seq).toBe(reopened.lastSeq);
    await reopened.close();
    expect((await verifyAuditFile(path)).ok).toBe(true);
  });

  it('refuses a second writer on the same file in this process', async () => {
    const log = await AuditLog.open({ path, logger: silent });
    await expect(AuditLog.open({ path, logger: silent })).rejects.toThrow(/already open/);
    await log.close();
    const again = await AuditLog.open({ path, logger: silent });
    await again.close();
  });

  it('after close, appends are refused and healthy is false', async () => {
    const log = await AuditLog.open({ path, logger: silent });
    await log.close();
    expect(log.healthy).toBe(false);
    await expect(log.append({ event: 'received' })).rejects.toBeInstanceOf(AuditUnavailableError);
  });
});

describe('the default append handle', () => {
  it.runIf(process.platform === 'linux')(
    'is opened O_DSYNC|O_APPEND: every write returns only once durable, as write + fdatasync would',
    async () => {
      const log = await AuditLog.open({ path, logger: silent });
      await log.append({ event: 'received' });
      const fds = await readdir('/proc/self/fd');
      const fd = (
        await Promise.all(
          fds.map(async (f) => ((await readlink(`/proc/self/fd/${f}`).catch(() => '')) === path ? f : '')),
        )
      ).find(Boolean);
      expect(fd).toBeTruthy();
      const info = await readFile(`/proc/self/fdinfo/${fd}`, 'utf8');
      const flags = Number.parseInt(/flags:\s*(\d+)/.exec(info)?.[1] ?? '', 8);
      expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
      expect(flags & constants.O_APPEND).toBe(constants.O_APPEND);
      await log.close();
    },
  );
});
