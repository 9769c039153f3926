// Kubegate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">. The time is in
// the signed text, so a receiver can refuse old (replayed) deliveries; a retry is signed anew.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Kubegate-Signature';

function mac(secret: string, t: number, body: string): string {
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, body: string, nowMs = Date.now()): string {
  const t = Math.floor(nowMs / 1000);
  return `t=${t},v1=${mac(secret, t, body)}`;
}

export interface VerifyOptions {
  /** Oldest (and furthest in the future) a signature may be, in seconds (default 300). */
  toleranceSeconds?: number;
  nowMs?: number;
}

/** What a receiver does: true only for this body, this secret and a recent time. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: VerifyOptions = {},
): boolean {
  const parts = new Map((header ?? '').split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isSafeInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const age = (opts.nowMs ?? Date.now()) / 1000 - t;
  if (Math.abs(age) > (opts.toleranceSeconds ?? 300)) return false;
  return timingSafeEqual(Buffer.from(mac(secret, t, body), 'hex'), Buffer.from(given, 'hex'));
}
