import { describe, expect, it } from 'vitest';
import { LineBytes } from '../../../src/audit/line-bytes.js';

describe('LineBytes: queued audit lines as UTF-8 in one reused buffer', () => {
  it('keeps lines in order, non-ASCII included, and grows past its first size', () => {
    const b = new LineBytes();
    const lines = Array.from({ length: 300 }, (_, i) => `{"seq":${i},"m":"é✓${'x'.repeat(500)}"}\n`);
    const ends = lines.map((l) => b.add(l));
    expect(b.all().toString('utf8')).toBe(lines.join(''));
    expect(ends.at(-1)).toBe(Buffer.byteLength(lines.join('')));
  });

  it('takes the first line out and moves the rest to the front', () => {
    const b = new LineBytes();
    const end = b.add('{"a":"ü"}\n');
    b.add('{"b":2}\n');
    expect(b.shift(end).toString('utf8')).toBe('{"a":"ü"}\n');
    expect(b.all().toString('utf8')).toBe('{"b":2}\n');
    b.clear();
    expect(b.all().length).toBe(0);
  });
});
