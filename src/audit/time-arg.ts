// Time arguments of `kubegate audit export`: ISO 8601, or a duration meaning "that long ago".
const DURATION = /^(\d+)(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export class TimeArgError extends Error {
  override readonly name = 'TimeArgError';
}

/** "30d", "12h", "15m", "45s", "2w" (now minus that), "now", or an ISO 8601 date/time (UTC if no zone). */
export function parseTimeArg(text: string, now: number = Date.now()): Date {
  const s = text.trim();
  if (s === 'now') return new Date(now);
  const d = DURATION.exec(s);
  if (d) return new Date(now - Number(d[1]) * (UNIT_MS[d[2] ?? 's'] ?? 1000));
  if (ISO_DATE.test(s)) {
    // Date.parse reads a zone-less date-time as local time; audit timestamps are UTC.
    const zoned = /T|\s/.test(s) && !/(Z|[+-]\d{2}:?\d{2})$/.test(s) ? `${s.replace(' ', 'T')}Z` : s;
    const ms = Date.parse(zoned);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  throw new TimeArgError(
    `not a time: ${JSON.stringify(text)} (use ISO 8601 like 2026-01-31T12:00:00Z, or 30d / 12h / 15m)`,
  );
}
