import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { timeline } from '../../../src/console/timeline.js';

const rec = (seq: number, id: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ seq, timestamp: 't', event: 'held', status: 'held', request_id: id, ...extra })}\n`;

describe("the request page's audit timeline", () => {
  it('reads only the tail of the log (its cost does not grow with the log) and says when it is partial', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tl-')), 'audit.jsonl');
    writeFileSync(file, rec(1, 'req-a'));
    const filler = rec(0, 'req-x').repeat(2000);
    appendFileSync(file, filler);
    appendFileSync(file, rec(2002, 'req-a', { reason: 'ok\u202Eevil' }));
    const t = await timeline(file, 'req-a', filler.length);
    expect(t.partial).toBe(true);
    expect(t.records.map((r) => r.seq)).toEqual([2002]);
    // requester text arrives with formatting characters escaped, as approve-cli prints it
    expect(t.records[0]?.reason).toBe('ok\\u{202e}evil');
    const whole = await timeline(file, 'req-a', 10 * filler.length);
    expect(whole.partial).toBe(false);
    expect(whole.records.map((r) => r.seq)).toEqual([1, 2002]);
  });

  it('skips an unfinished last line and records of other requests whose text names this id', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'tl-')), 'audit.jsonl');
    writeFileSync(
      file,
      `${rec(1, 'req-b', { message: 'about req-a' })}${rec(2, 'req-a')}{"seq":3,"request_id":"req-a"`,
    );
    const t = await timeline(file, 'req-a');
    expect(t.records.map((r) => r.seq)).toEqual([2]);
  });
});
