// Kubegate-Signature: verifiable with the shared secret, by nobody without it, and only while fresh.
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../../src/notify/sign.js';

const secret = 'a3f1c2d4e5b6a7980f1e2d3c4b5a6978';
const body = '{"event":"held","request_id":"req-1","seq":3}';
const now = Date.UTC(2026, 11, 1, 10, 0, 0);

describe('webhook signature', () => {
  it('has the documented form and verifies with the secret', () => {
    const h = signatureHeader(secret, body, now);
    expect(h).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(h.startsWith(`t=${now / 1000},`)).toBe(true);
    expect(verifySignature(secret, h, body, { nowMs: now + 1000 })).toBe(true);
  });

  it('matches an independent HMAC over "<t>.<body>"', async () => {
    const { createHmac } = await import('node:crypto');
    const t = now / 1000;
    const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signatureHeader(secret, body, now)).toBe(`t=${t},v1=${v1}`);
  });

  it('fails with another secret, a changed body, a changed time or a garbled header', () => {
    const h = signatureHeader(secret, body, now);
    expect(verifySignature('another-secret-of-some-length', h, body, { nowMs: now })).toBe(false);
    expect(verifySignature(secret, h, body.replace('held', 'executed'), { nowMs: now })).toBe(false);
    expect(
      verifySignature(secret, h.replace(`t=${now / 1000}`, `t=${now / 1000 + 1}`), body, { nowMs: now }),
    ).toBe(false);
    for (const bad of [undefined, '', 'v1=abc', `t=${now / 1000}`, 't=x,v1=zz'])
      expect(verifySignature(secret, bad, body, { nowMs: now })).toBe(false);
  });

  it('refuses an old signature (a replay) past the tolerance', () => {
    const h = signatureHeader(secret, body, now);
    expect(verifySignature(secret, h, body, { nowMs: now + 301_000 })).toBe(false);
    expect(verifySignature(secret, h, body, { nowMs: now + 60_000, toleranceSeconds: 120 })).toBe(true);
  });
});
