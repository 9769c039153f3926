// Reads a JSONL file as byte-exact lines with their offsets (recovery truncates at an offset,
// shippers resume from one). Only "\n" ends a line: a record never contains a raw newline.
import { open } from 'node:fs/promises';

export interface Line {
  /** The bytes between the previous "\n" and this one, decoded as UTF-8 (no newline). */
  text: string;
  /** Byte offset of the first byte of the line. */
  offset: number;
  /** Byte offset just past the line's "\n" (or past the last byte, for a torn line). */
  end: number;
  /** False for a final segment without a trailing newline (a torn write). */
  complete: boolean;
}

const CHUNK = 1 << 20;

/** Yields every line from byte `start`; the final, newline-less segment (if any) has complete=false. */
export async function* readLines(path: string, start = 0): AsyncGenerator<Line> {
  const fh = await open(path, 'r');
  try {
    let pending: Buffer[] = [];
    let pendingLen = 0;
    let lineStart = start;
    let pos = start;
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      let from = 0;
      for (;;) {
        const nl = buf.indexOf(0x0a, from);
        if (nl === -1 || nl >= bytesRead) break;
        const piece = buf.subarray(from, nl);
        const bytes = pendingLen > 0 ? Buffer.concat([...pending, piece]) : piece;
        const end = pos + nl + 1;
        yield { text: bytes.toString('utf8'), offset: lineStart, end, complete: true };
        pending = [];
        pendingLen = 0;
        lineStart = end;
        from = nl + 1;
      }
      if (from < bytesRead) {
        // Copy: buf is reused for the next read.
        pending.push(Buffer.from(buf.subarray(from, bytesRead)));
        pendingLen += bytesRead - from;
      }
      pos += bytesRead;
    }
    if (pendingLen > 0) {
      yield { text: Buffer.concat(pending).toString('utf8'), offset: lineStart, end: pos, complete: false };
    }
  } finally {
    await fh.close();
  }
}

/** The last `n` complete lines, reading backwards from the end (cheap on large files). */
export async function lastLines(path: string, n: number): Promise<{ lines: string[]; end: number }> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    // Start past a torn tail: only complete lines are shown.
    let end = size;
    let collected = Buffer.alloc(0);
    let pos = size;
    let newlines = 0;
    let sawFinalNewline = false;
    while (pos > 0 && newlines <= n) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const chunk = Buffer.allocUnsafe(len);
      await fh.read(chunk, 0, len, pos);
      collected = Buffer.concat([chunk, collected]);
      if (!sawFinalNewline) {
        const lastNl = collected.lastIndexOf(0x0a);
        if (lastNl === -1) continue;
        sawFinalNewline = true;
        end = pos + lastNl + 1;
        collected = collected.subarray(0, lastNl + 1);
      }
      newlines = countNewlines(collected);
    }
    if (!sawFinalNewline) return { lines: [], end: 0 };
    if (n <= 0) return { lines: [], end };
    const all = collected.toString('utf8').split('\n');
    all.pop(); // after the final "\n"
    // When we stopped early, the first element is a partial line.
    const complete = pos === 0 ? all : all.slice(1);
    return { lines: complete.slice(-n), end };
  } finally {
    await fh.close();
  }
}

function countNewlines(b: Buffer): number {
  let count = 0;
  let i = b.indexOf(0x0a);
  while (i !== -1) {
    count++;
    i = b.indexOf(0x0a, i + 1);
  }
  return count;
}
