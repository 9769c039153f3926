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
  private byKey = new Map<string, Set<Waiter>>();
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
    for (const w of [...waiters]) w.done(ev);
  }

  /** How many requests wait now. */
  get waiting(): number {
    return this.all.size;
  }

  /**
   * Resolves with the next event for a fingerprint (or for any of `alsoKeys`, e.g. the store's
   * key for it), or 'timeout' after `ms`, or 'aborted'.
   */
  wait(
    fingerprint: string,
    ms: number,
    signal: AbortSignal,
    alsoKeys: string[] = [],
    since?: number,
  ): Promise<HoldEvent | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve('aborted');
      const keys = alsoKeys.includes(fingerprint) ? alsoKeys : [fingerprint, ...alsoKeys];
      if (since !== undefined && keys.some((k) => (this.lastAt.get(k) ?? 0) > since))
        return resolve({ kind: 'news' });
      const onAbort = () => w.done('aborted');
      const w: Waiter = {
        keys,
        done: (v) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.remove(w);
          resolve(v);
        },
      };
      const timer = setTimeout(() => w.done('timeout'), ms);
      for (const k of keys) {
        const set = this.byKey.get(k) ?? new Set<Waiter>();
        if (set.size === 0) this.byKey.set(k, set);
        set.add(w);
      }
      this.all.add(w);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private remove(w: Waiter): void {
    this.all.delete(w);
    for (const k of w.keys) {
      const set = this.byKey.get(k);
      if (!set) continue;
      set.delete(w);
      if (set.size === 0) this.byKey.delete(k);
    }
  }
}
