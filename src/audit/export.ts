// `kubegate audit export`: the records whose timestamp falls in [since, until], as the original
// lines (byte for byte, so each exported record's hash can still be checked).
import { parseRecord } from './check.js';
import { readLines } from './lines.js';

export interface ExportRange {
  /** Inclusive; undefined = from the first record. */
  since?: Date;
  /** Inclusive. */
  until: Date;
}

export interface ExportResult {
  matched: number;
  /** Lines that are not records (e.g. a torn tail): not exported. */
  skipped: number;
}

/** Calls `emit` with each matching line (without newline). Scans the whole file: clocks can step back. */
export async function exportRange(
  path: string,
  range: ExportRange,
  emit: (line: string) => void | Promise<void>,
): Promise<ExportResult> {
  const from = range.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const to = range.until.getTime();
  let matched = 0;
  let skipped = 0;
  for await (const line of readLines(path)) {
    const r = line.complete ? parseRecord(line.text) : undefined;
    const t = r ? Date.parse(r.timestamp) : Number.NaN;
    if (Number.isNaN(t)) {
      skipped++;
      continue;
    }
    if (t >= from && t <= to) {
      matched++;
      await emit(line.text);
    }
  }
  return { matched, skipped };
}
