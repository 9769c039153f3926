import { randomBytes } from 'node:crypto';

/** What a WebAuthn ceremony was started for: enrolment, sign-in, or one action's claims. */
export type Ticket<T> = { challenge: string; exp: number; data: T };

/**
 * Challenges waiting for an authenticator, each used once and for at most two minutes: a second
 * answer to the same challenge finds nothing.
 */
export class Tickets<T> {
  private readonly byId = new Map<string, Ticket<T>>();

  constructor(private readonly ttlMs = 120_000) {}

  put(challenge: string, data: T): string {
    const now = Date.now();
    for (const [k, t] of this.byId) if (t.exp < now) this.byId.delete(k);
    // bounded: past the cap the oldest unfinished ceremony goes (a Map iterates in insertion order)
    if (this.byId.size >= 10_000) this.byId.delete(this.byId.keys().next().value!);
    const id = randomBytes(18).toString('base64url');
    this.byId.set(id, { challenge, exp: now + this.ttlMs, data });
    return id;
  }

  take(id: unknown): Ticket<T> | undefined {
    if (typeof id !== 'string') return undefined;
    const t = this.byId.get(id);
    this.byId.delete(id);
    return t && t.exp >= Date.now() ? t : undefined;
  }
}
