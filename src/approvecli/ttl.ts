import { UsageError } from './errors.js';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;
/** kubegate refuses tokens that live longer than this whatever its config says. */
export const MAX_TTL_SECONDS = 86_400;

/** Parses a token lifetime such as `30s`, `10m` or `1h` into seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smh])$/.exec(text.trim());
  if (!m) throw new UsageError(`--ttl: "${text}" is not a duration like 30s, 10m or 1h`);
  const seconds = Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
  if (seconds <= 0) throw new UsageError('--ttl must be longer than 0s');
  if (seconds > MAX_TTL_SECONDS)
    throw new UsageError(`--ttl: ${text} is longer than kubegate accepts (24h at most)`);
  return seconds;
}
