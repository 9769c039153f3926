import type { Gone } from '../client-gone.js';

export type HoldEvent =
  | { kind: 'approved' }
  | { kind: 'rejected'; message: string }
  | { kind: 'cancelled'; message: string }
  /** The store says something about this request changed (on any replica): look again. */
  | { kind: 'news' };

/** Every key's waiters at once (a store feed that may have missed changes). */
export const ALL = '*';

/** Keys whose latest notification is remembered for waits that start just after it. */
const MAX_REMEMBERED = 10_000;

interface Waiter {
  keys: string[];
  done: (v: HoldEvent | 'timeout' | 'aborted') => void;
}

/**
 * Wakes requests held on a fingerprint when an approval, rejection or cancellation arrives here,
 * or when the store's one change feed names it. Waiters live in sets by key, so thousands of
 * held requests cost one entry each and no polling.
 */
export class Notifier {
  /** One waiter alone (the usual case: one held request per fingerprint), or a set of them. */
  private byKey = new Map<string, Waiter | Set<Waiter>>();
  private all = new Set<Waiter>();
  /** A count of notifications, and the count at each key's latest (bounded: oldest go first). */
  private seq = 0;
  private lastAt = new Map<string, number>();

  /** Where notifications stand now: a wait given this mark wakes at once for any that came since. */
  mark(): number {
    return this.seq;
  }

  notify(key: string, ev: HoldEvent): void {
    // remembered even with nobody waiting: a request that counted its approvals just before this
    // and waits just after must not miss it (a lost wake-up holds it to its deadline)
    this.lastAt.delete(key);
    this.lastAt.set(key, ++this.seq);
    if (this.lastAt.size > MAX_REMEMBERED) this.lastAt.delete(this.lastAt.keys().next().value as string);
    const waiters = key === ALL ? this.all : this.byKey.get(key);
    if (!waiters) return;
    if (waiters instanceof Set) for (const w of [...waiters]) w.done(ev);
    else waiters.done(ev);
  }

  /** How many requests wait now. */
  get waiting(): number {
    return this.all.size;
  }

  /**
   * Resolves with the next event for a fingerprint (or for any of `alsoKeys`, e.g. the store's
   * key for it), or 'timeout' after `ms`, or 'aborted' when the client left.
   */
  wait(
    fingerprint: string,
    ms: number,
    gone: Gone,
    alsoKeys: string[] = [],
    since?: number,
  ): Promise<HoldEvent | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      if (gone.clientGone) return resolve('aborted');
      const keys = alsoKeys.includes(fingerprint) ? alsoKeys : [fingerprint, ...alsoKeys];
      if (since !== undefined && keys.some((k) => (this.lastAt.get(k) ?? 0) > since))
        return resolve({ kind: 'news' });
      let stopListening = (): void => {};
      const w: Waiter = {
        keys,
        done: (v) => {
          clearTimeout(timer);
          stopListening();
          this.remove(w);
          resolve(v);
        },
      };
      const timer = setTimeout(() => w.done('timeout'), ms);
      for (const k of keys) this.add(k, w);
      this.all.add(w);
      stopListening = gone.whenGone(() => w.done('aborted'));
    });
  }

  private add(key: string, w: Waiter): void {
    const now = this.byKey.get(key);
    if (!now) this.byKey.set(key, w);
    else if (now instanceof Set) now.add(w);
    else this.byKey.set(key, new Set([now, w]));
  }

  private remove(w: Waiter): void {
    this.all.delete(w);
    for (const k of w.keys) {
      const now = this.byKey.get(k);
      if (now === w) this.byKey.delete(k);
      else if (now instanceof Set) {
        now.delete(w);
        if (now.size === 0) this.byKey.delete(k);
      }
    }
  }
}
