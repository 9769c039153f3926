import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { RequestAudit } from '../../../src/chain/audit.js';
import type { RequestContext } from '../../../src/chain/context.js';
import { CapReached, CastWriter } from '../../../src/sessions/cast.js';
import { FrameReader } from '../../../src/sessions/frames.js';
import { SessionRecorder } from '../../../src/sessions/recorder.js';
import { SessionTap } from '../../../src/sessions/tap.js';

/** One WebSocket binary frame carrying a channel byte and data, masked as a client sends it. */
function frame(channel: number, data: string, mask?: Buffer, opcode = 2): Buffer {
  const payload = Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | len])
      : Buffer.from([0x80 | opcode, (mask ? 0x80 : 0) | 126, len >> 8, len & 0xff]);
  if (!mask) return Buffer.concat([head, payload]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]!));
  return Buffer.concat([head, mask, masked]);
}

function cast(maxBytes = 1 << 20): { writer: CastWriter; file: string } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kg-cast-')), 's.cast');
  return { writer: new CastWriter(file, { width: 80, height: 24 }, maxBytes), file };
}

function events(file: string): [number, string, string][] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => JSON.parse(l) as [number, string, string]);
}

describe('FrameReader', () => {
  it('reads channels from masked and unmasked frames split at every byte boundary', () => {
    const mask = Buffer.from([1, 2, 3, 4]);
    const long = 'x'.repeat(300); // a 16-bit length
    const bytes = Buffer.concat([frame(0, 'ab', mask), frame(4, long, mask), frame(1, 'é!')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got: [number, string][] = [];
      const r = new FrameReader((ch, d) => got.push([ch, d.toString('latin1')]));
      r.push(bytes.subarray(0, cut));
      r.push(bytes.subarray(cut));
      const joined = new Map<number, string>();
      for (const [ch, d] of got) joined.set(ch, (joined.get(ch) ?? '') + d);
      expect(Object.fromEntries(joined)).toEqual({
        0: 'ab',
        4: long,
        1: Buffer.from('é!').toString('latin1'),
      });
    }
  });

  it('ignores control frames (ping) between data frames', () => {
    const got: number[] = [];
    const r = new FrameReader((ch) => got.push(ch));
    r.push(Buffer.concat([frame(1, 'a'), frame(9, 'ping', undefined, 9), frame(2, 'b')]));
    expect(got).toEqual([1, 2]);
  });
});

describe('SessionTap', () => {
  it('records output, input, resizes and the exit code, and passes every byte on unchanged', async () => {
    const { writer, file } = cast();
    const tap = new SessionTap(writer);
    const mask = Buffer.from([9, 8, 7, 6]);
    const fromClient = Buffer.concat([frame(0, 'ls\n', mask), frame(4, '{"Width":100,"Height":30}', mask)]);
    const status = JSON.stringify({
      status: 'Failure',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    const fromServer = Buffer.concat([frame(1, 'file\n'), frame(2, 'warn\n'), frame(3, status)]);
    const sink = (into: Buffer[]) =>
      new Writable({
        write(c: Buffer, _e, done) {
          into.push(c);
          done();
        },
      });
    const up: Buffer[] = [];
    const down: Buffer[] = [];
    await pipeline(Readable.from([fromClient]), tap.toServer(), sink(up));
    await pipeline(Readable.from([fromServer]), tap.toClient(), sink(down));
    expect(Buffer.concat(up)).toEqual(fromClient);
    expect(Buffer.concat(down)).toEqual(fromServer);
    expect(tap.exitStatus()).toBe(3);
    const summary = writer.close();
    expect(events(file).map((e) => [e[1], e[2]])).toEqual([
      ['i', 'ls\n'],
      ['r', '100x30'],
      ['o', 'file\n'],
      ['o', 'warn\n'],
    ]);
    expect(summary.bytes).toBe(readFileSync(file).length);
    expect(summary.truncated).toBe(false);
  });

  it('at the size cap writes a marker and fails the stream: the chunk past the cap is not passed on', async () => {
    const { writer, file } = cast(4096);
    const tap = new SessionTap(writer);
    const passed: Buffer[] = [];
    const chunks = Array.from({ length: 20 }, (_, i) =>
      frame(1, `${String(i).padStart(2, '0')}${'y'.repeat(300)}`),
    );
    const run = pipeline(
      Readable.from(chunks),
      tap.toClient(),
      new Writable({
        write(c: Buffer, _e, done) {
          passed.push(c);
          done();
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(CapReached);
    const summary = writer.close();
    expect(summary.truncated).toBe(true);
    expect(summary.bytes).toBeLessThanOrEqual(4096);
    const recorded = events(file);
    expect(recorded.at(-1)?.[1]).toBe('m');
    expect(recorded.at(-1)?.[2]).toContain('size cap of 4096 bytes reached');
    // everything that reached the client is in the recording
    const outputs = recorded.filter((e) => e[1] === 'o').length;
    expect(passed.length).toBe(outputs);
    expect(passed.length).toBeLessThan(chunks.length);
  });
});

/** A recorder writing into `dir` whose session_closed records land in `closed`. */
function newRecorder(dir: string) {
  const closed: Record<string, unknown>[] = [];
  const audit = { later: (_f: unknown, _e: unknown, extra: Record<string, unknown>) => closed.push(extra) };
  const recorder = new SessionRecorder({
    dir,
    maxBytes: 1 << 20,
    audit: audit as unknown as RequestAudit,
    logger: pino({ level: 'silent' }),
  });
  return { recorder, closed };
}

describe('SessionRecorder: how a session ends', () => {
  /** A recorded session that saw `frames` from the server; its session_closed records land in `closed`. */
  async function session(frames: Buffer[]) {
    const { recorder, closed } = newRecorder(mkdtempSync(path.join(os.tmpdir(), 'kg-rec-')));
    const ctx = {
      kr: { resource: 'pods', subresource: 'exec', search: '?command=echo' },
      headers: { upgrade: 'websocket' },
      facts: { request_id: `req-${closed.length}-${Math.random().toString(16).slice(2)}` },
    } as unknown as RequestContext;
    const rec = recorder.forRequest(ctx)!;
    const taps = rec.start('v5.channel.k8s.io');
    const sink = new Writable({ write: (_c, _e, done) => done() });
    await pipeline(Readable.from(frames), taps.toClient, sink);
    return { rec, closed };
  }
  const exited = frame(3, JSON.stringify({ metadata: {}, status: 'Success' }));

  it('a socket error after the exit status is the client hanging up: the session succeeded', async () => {
    const { rec, closed } = await session([frame(1, 'hello\n'), exited]);
    rec.finish(undefined, 'write ECONNRESET');
    expect(closed).toEqual([
      expect.objectContaining({ status: 'success', exit_status: 0, teardown: 'write ECONNRESET' }),
    ]);
    expect(closed[0]).not.toHaveProperty('error');
  });

  it('a socket error before any exit status fails it, and so does a recording error after one', async () => {
    const cut = await session([frame(1, 'hel')]);
    cut.rec.finish(undefined, 'write ECONNRESET');
    expect(cut.closed).toEqual([expect.objectContaining({ status: 'failed', error: 'write ECONNRESET' })]);
    const bad = await session([exited]);
    bad.rec.finish('disk full', 'write EPIPE');
    expect(bad.closed).toEqual([
      expect.objectContaining({ status: 'failed', exit_status: 0, error: 'disk full' }),
    ]);
    expect(bad.closed[0]).not.toHaveProperty('teardown');
  });

  // round 20: an attempt whose approval was given back (the upstream refused the upgrade) left its
  // file, and every later attempt of the same held request answered 503 (exclusive create)
  it('a second attempt of the same held request gets a recording of its own; the first is kept', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kg-rec-'));
    const { recorder, closed } = newRecorder(dir);
    const ctx = {
      kr: { resource: 'pods', subresource: 'exec', search: '?command=echo' },
      headers: { upgrade: 'websocket' },
      facts: { request_id: 'req-again' },
    } as unknown as RequestContext;
    recorder.forRequest(ctx)?.finish('the upstream answered 500 instead of opening the session');
    recorder.forRequest(ctx)?.finish('the upstream answered 500 instead of opening the session');
    expect(closed.map((c) => (c.recording as { file: string }).file)).toEqual([
      path.join('sessions', 'req-again.cast'),
      path.join('sessions', 'req-again-2.cast'),
    ]);
    expect(readdirSync(dir).sort()).toEqual(['req-again-2.cast', 'req-again.cast']);
  });
});
