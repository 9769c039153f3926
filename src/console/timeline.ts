import { open } from 'node:fs/promises';
import { printable } from '../wire/printable.js';

/**
 * How much of the end of the audit log the request page reads: a constant cost per page load
 * however long the log grows (a request page is about recent requests; older records are in
 * `kubegate audit export`).
 */
export const TIMELINE_TAIL_BYTES = 4 * 1024 * 1024;

export interface Timeline {
  records: Record<string, unknown>[];
  /** True when the log is longer than the part read: older records may be missing. */
  partial: boolean;
}

/** The request's audit records in the last TIMELINE_TAIL_BYTES of the log, oldest first. */
export async function timeline(auditPath: string, id: string, tail = TIMELINE_TAIL_BYTES): Promise<Timeline> {
  const { text, partial } = await readTail(auditPath, tail);
  const records: Record<string, unknown>[] = [];
  // the first line of a partial read is cut, the last may be unfinished: both fail to parse
  for (const line of text.split('\n')) {
    if (!line.includes(id)) continue;
    const r = parse(line);
    if (r?.request_id !== id) continue;
    const { seq, timestamp, event, status, approver, reason, message, via } = r;
    records.push({
      seq,
      timestamp,
      event,
      status,
      approver,
      via,
      reason: shown(reason),
      message: shown(message),
    });
  }
  return { records, partial };
}

async function readTail(file: string, tail: number): Promise<{ text: string; partial: boolean }> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const start = Math.max(0, size - tail);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return { text: buf.toString('utf8'), partial: start > 0 };
  } finally {
    await fh.close();
  }
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Requester text shown with control and bidi characters visible, as approve-cli prints it. */
const shown = (v: unknown) => (typeof v === 'string' ? printable(v) : v);
