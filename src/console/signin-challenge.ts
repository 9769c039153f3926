import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a sign-in challenge may be answered. */
const TTL_MS = 120_000;
const NONCE = 16;
const MAC = 32;

/**
 * Sign-in challenges that need no server state per caller: random || expiry, MACed with a key
 * only this process knows. Anyone may ask for as many as they like without evicting anyone
 * else's; one is used once because a challenge is remembered only after it signed someone in,
 * until it expires (so only successful sign-ins take memory).
 */
export class SignInChallenges {
  private readonly key = randomBytes(32);
  private readonly used = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(): string {
    const body = Buffer.alloc(NONCE + 8);
    randomBytes(NONCE).copy(body);
    body.writeBigUInt64BE(BigInt(this.now() + TTL_MS), NONCE);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  /** Why the challenge cannot be answered (forged, expired, used), or undefined when it can. */
  refusal(challenge: unknown): string | undefined {
    if (typeof challenge !== 'string') return 'sign-in expired: try again';
    const raw = Buffer.from(challenge, 'base64url');
    if (raw.length !== NONCE + 8 + MAC) return 'not a sign-in challenge of this kubegate';
    const body = raw.subarray(0, NONCE + 8);
    if (!timingSafeEqual(raw.subarray(NONCE + 8), this.mac(body)))
      return 'not a sign-in challenge of this kubegate';
    if (Number(body.readBigUInt64BE(NONCE)) < this.now()) return 'sign-in expired: try again';
    if (this.used.has(challenge)) return 'this sign-in was already used';
    return undefined;
  }

  /**
   * Marks a challenge used once its assertion verified; false when another answer got there first
   * (check and set run in one tick).
   */
  use(challenge: string): boolean {
    const now = this.now();
    for (const [c, exp] of this.used) if (exp < now) this.used.delete(c);
    if (this.used.has(challenge)) return false;
    this.used.set(challenge, Number(Buffer.from(challenge, 'base64url').readBigUInt64BE(NONCE)));
    return true;
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update(body).digest();
  }
}
