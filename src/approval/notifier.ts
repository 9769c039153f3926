export type HoldEvent =
  | { kind: 'approved' }
  | { kind: 'rejected'; message: string }
  | { kind: 'cancelled'; message: string }
  /** The store says something about this request changed (on any replica): look again. */
  | { kind: 'news' };

/** Every key's waiters at once (a store feed that may have missed changes). */
export const ALL = '*';

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

  notify(key: string, ev: HoldEvent): void {
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
  ): Promise<HoldEvent | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve('aborted');
      const keys = alsoKeys.includes(fingerprint) ? alsoKeys : [fingerprint, ...alsoKeys];
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
