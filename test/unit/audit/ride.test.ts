// Outcomes ride the next group commit: a record appended with commit 'next' starts no fsync of its
// own, is durable (and resolved) only after the commit it rides, and a crash before that commit
// leaves a write-ahead record without an outcome, which the next start marks `interrupted`.
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditUnavailableError } from '../../../src/audit/errors.js';
import { markInterrupted } from '../../../src/audit/interrupted.js';
import { AuditLog } from '../../../src/audit/log.js';
import { verifyAuditFile } from '../../../src/audit/verify.js';
import type { AppendFile } from '../../../src/audit/writer.js';
import { fileLines, keyPair, records, silent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let path: string;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, 'actions-log.jsonl');
});
afterEach(() => cleanup());

/** A real append handle that counts fsyncs and can be made to fail. */
function counting() {
  const calls = { fsyncs: 0 };
  let failNext: Error | undefined;
  const openFile = async (p: string): Promise<AppendFile> => {
    const fh = await open(p, 'a', 0o600);
    return {
      write: (buf) => fh.write(buf),
      async datasync() {
        calls.fsyncs++;
        if (failNext) throw failNext;
        await fh.datasync();
      },
      close: () => fh.close(),
    };
  };
  const failWith = (e: Error) => {
    failNext = e;
  };
  return { openFile, calls, failWith };
}

const change = (id: string, event: string) => ({ event, request_id: id, action: 'create v1 configmaps' });
const settled = (p: Promise<unknown>) => {
  const s = { done: false };
  const done = () => {
    s.done = true;
  };
  void p.then(done, done);
  return s;
};

describe("commit 'next'", () => {
  it('an outcome starts no fsync: it is written and resolved with the next write-ahead record, in one fsync', async () => {
    const io = counting();
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile, rideMs: 60_000 });
    await log.append(change('req-1', 'forwarded'));
    expect(io.calls.fsyncs).toBe(1);

    const outcome = log.append(change('req-1', 'executed'), { commit: 'next' });
    const state = settled(outcome);
    await new Promise((r) => setTimeout(r, 30));
    expect(state.done).toBe(false); // not durable yet: it waits for a commit to ride
    expect(io.calls.fsyncs).toBe(1);
    expect(await fileLines(path)).toHaveLength(1);

    await log.append(change('req-2', 'forwarded'));
    expect(state.done).toBe(true);
    expect((await outcome).seq).toBe(2);
    expect(io.calls.fsyncs).toBe(2); // the second write-ahead's fsync carried the outcome too
    expect((await records(path)).map((r) => r.event)).toEqual(['forwarded', 'executed', 'forwarded']);
    await log.close();
    expect((await verifyAuditFile(path)).ok).toBe(true);
  });

  it('with nothing to ride, the timer commits it within rideMs', async () => {
    const io = counting();
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile, rideMs: 10 });
    const t0 = Date.now();
    const r = await log.append(change('req-1', 'executed'), { commit: 'next' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9);
    expect(r.seq).toBe(1);
    expect(io.calls.fsyncs).toBe(1);
    expect(log.stats.timerCommits).toBe(1);
    expect(await fileLines(path)).toHaveLength(1);
    await log.close();
  });

  it('close() commits riders at once, before its final checkpoint', async () => {
    const { privateKey, publicKey } = keyPair();
    const log = await AuditLog.open({ path, logger: silent, signingKey: privateKey, rideMs: 60_000 });
    await log.append(change('req-1', 'forwarded'));
    const outcome = log.append(change('req-1', 'executed'), { commit: 'next' });
    await log.close();
    expect((await outcome).seq).toBe(2);
    expect((await records(path)).map((r) => r.event)).toEqual(['forwarded', 'executed', 'checkpoint']);
    expect(await verifyAuditFile(path, publicKey)).toMatchObject({ ok: true, records: 3 });
  });

  it("fsync 'each' stays one fsync per record: nothing rides", async () => {
    const io = counting();
    const log = await AuditLog.open({
      path,
      logger: silent,
      openFile: io.openFile,
      fsync: 'each',
      rideMs: 60_000,
    });
    await log.append(change('req-1', 'executed'), { commit: 'next' });
    await Promise.all([
      log.append(change('req-2', 'forwarded')),
      log.append(change('req-2', 'executed'), { commit: 'next' }),
    ]);
    expect(io.calls.fsyncs).toBe(3);
    await log.close();
  });

  it('a rider is refused when the commit it rides fails (fail closed)', async () => {
    const io = counting();
    const log = await AuditLog.open({ path, logger: silent, openFile: io.openFile, rideMs: 60_000 });
    await log.append(change('req-1', 'forwarded'));
    const outcome = log.append(change('req-1', 'executed'), { commit: 'next' });
    io.failWith(new Error('EIO: i/o error, fsync'));
    await expect(log.append(change('req-2', 'forwarded'))).rejects.toBeInstanceOf(AuditUnavailableError);
    await expect(outcome).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(log.healthy).toBe(false);
    await log.close();
  });

  it('riders and write-ahead records under load: call order, one chain, every record durable', async () => {
    const { privateKey, publicKey } = keyPair();
    const log = await AuditLog.open({ path, logger: silent, signingKey: privateKey, checkpointEvery: 7 });
    const all = Array.from({ length: 40 }, async (_, i) => {
      await log.append(change(`req-${i}`, 'forwarded'));
      await log.append(change(`req-${i}`, 'executed'), { commit: 'next' });
    });
    await Promise.all(all);
    expect(log.stats.fsyncs).toBeLessThan(40);
    await log.close();
    const recs = await records(path);
    expect(recs.filter((r) => r.event === 'executed')).toHaveLength(40);
    expect(await verifyAuditFile(path, publicKey)).toMatchObject({ ok: true });
  });
});

describe('a crash between the write-ahead record and its riding outcome', () => {
  it('leaves the change without an outcome on disk; the next start marks it interrupted and the chain verifies', async () => {
    const log = await AuditLog.open({ path, logger: silent, rideMs: 60_000 });
    await log.append(change('req-done', 'forwarded'));
    await log.append(change('req-done', 'executed'));
    await log.append(change('req-1', 'forwarded'));
    void log.append(change('req-1', 'executed'), { commit: 'next' }).catch(() => undefined);
    // "kill -9" now: the disk holds what was committed, the rider was not
    const crashed = join(dir, 'after-crash.jsonl');
    await copyFile(path, crashed);

    const restarted = await AuditLog.open({ path: crashed, logger: silent });
    expect(await markInterrupted(restarted)).toEqual(['req-1']);
    await restarted.close();
    const recs = await records(crashed);
    expect(recs.map((r) => `${r.event} ${r.request_id}`)).toEqual([
      'forwarded req-done',
      'executed req-done',
      'forwarded req-1',
      'interrupted req-1',
    ]);
    expect(recs[3]).toMatchObject({ status: 'unknown', action: 'create v1 configmaps' });
    expect((await verifyAuditFile(crashed)).ok).toBe(true);
    await log.close();
  });
});
