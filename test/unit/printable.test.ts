import { describe, expect, it } from 'vitest';
import { printable } from '../../src/wire/printable.js';

describe("printable: a requester's text as an approver's terminal shows it", () => {
  it('shows control and formatting characters as escapes, newlines only where asked', () => {
    expect(printable('a\x1b[2Jb\rc\u202ed')).toBe('a\\u{1b}[2Jb\\u{d}c\\u{202e}d');
    expect(printable('a\nb')).toBe('a\\u{a}b');
    expect(printable('a\nb', true)).toBe('a\nb');
  });

  it('shows line and paragraph separators and look-alike spaces as escapes (attacker round 10)', () => {
    // "v\u2028w" printed raw reads as "v w" on a terminal: the approver saw a value it was not
    expect(printable('v\u2028w\u2029x')).toBe('v\\u{2028}w\\u{2029}x');
    expect(printable('a\u00a0b\u2003c\u3000d\u202fe')).toBe('a\\u{a0}b\\u{2003}c\\u{3000}d\\u{202f}e');
    expect(printable('plain words, kept as they are')).toBe('plain words, kept as they are');
  });
});
