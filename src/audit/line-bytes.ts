/** What a batch of lines starts at; a burst grows it, and a buffer grown past SHRINK_AT is let go. */
const INITIAL = 64 * 1024;
const SHRINK_AT = 4 * 1024 * 1024;

/**
 * Queued audit lines as UTF-8 bytes in one reused buffer. A line is encoded the moment it is
 * queued, so its string (a tree of every field's text) dies young: held in a queue through an
 * fsync, it and all its pieces were promoted to the old generation, and a burst of held requests
 * left kilobytes of garbage there per request. No Buffer is made per line either.
 */
export class LineBytes {
  private buf = Buffer.allocUnsafe(INITIAL);
  private len = 0;

  /** Appends `line`; returns where it ends. */
  add(line: string): number {
    const most = line.length * 3; // UTF-8 bytes of a UTF-16 string, at most
    if (this.len + most > this.buf.length) this.grow(this.len + most);
    this.len += this.buf.write(line, this.len, 'utf8');
    return this.len;
  }

  /** Every byte queued (a view: valid until clear()). */
  all(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the first `end` bytes, taken out (the rest moves to the front). */
  shift(end: number): Buffer {
    const out = Buffer.from(this.buf.subarray(0, end));
    this.buf.copy(this.buf, 0, end, this.len);
    this.len -= end;
    return out;
  }

  clear(): void {
    this.len = 0;
    if (this.buf.length > SHRINK_AT) this.buf = Buffer.allocUnsafe(INITIAL);
  }

  private grow(need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}
