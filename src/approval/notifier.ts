import type { Gone } from '../client-gone.js';
import { Deadlines, type Timed } from './deadlines.js';

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

const nothing = (): void => {};

/**
 * Who waits: told once, with the event, 'timeout' at its deadline, or 'aborted' when its client
 * left. Its fields are the notifier's bookkeeping while it waits (a parked request is a Waiter
 * itself, so waiting adds no object of its own).
 */
export abstract class Waiter implements Timed {
  keys: readonly string[] = [];
  due = 0;
  at = -1;
  stopListening: () => void = nothing;

  abstract wake(v: HoldEvent | 'timeout' | 'aborted'): void;
}

/** A promise's waiter (`Notifier.wait`). */
class Resolver extends Waiter {
  constructor(private readonly resolve: (v: HoldEvent | 'timeout' | 'aborted') => void) {
    super();
  }

  wake(v: HoldEvent | 'timeout' | 'aborted'): void {
    this.resolve(v);
  }
}

/**
 * Wakes requests held on a fingerprint when an approval, rejection or cancellation arrives here,
 * or when the store's one change feed names it. Waits live in sets by key and their deadlines in
 * one heap under one timer, so thousands of held requests cost one entry each and no polling.
 */
export class Notifier {
  /** One wait alone (the usual case: one held request per fingerprint), or a set of them. */
  private byKey = new Map<string, Waiter | Set<Waiter>>();
  private all = new Set<Waiter>();
  private deadlines = new Deadlines<Waiter>((w) => this.end(w, 'timeout'));
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
    const waits = key === ALL ? this.all : this.byKey.get(key);
    if (!waits) return;
    if (waits instanceof Set) for (const w of [...waits]) this.end(w, ev);
    else this.end(waits, ev);
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
    return new Promise((resolve) => this.park(new Resolver(resolve), fingerprint, ms, gone, alsoKeys, since));
  }

  /**
   * `wait` without a promise: the waiter is told once, perhaps at once (its client left, or news
   * came since `since`). A parked request is the waiter itself, so waiting costs it no closures.
   */
  park(w: Waiter, fingerprint: string, ms: number, gone: Gone, alsoKeys: string[], since?: number): void {
    if (gone.clientGone) {
      w.wake('aborted');
      return;
    }
    const keys = alsoKeys.includes(fingerprint) ? alsoKeys : [fingerprint, ...alsoKeys];
    if (since !== undefined && keys.some((k) => (this.lastAt.get(k) ?? 0) > since)) {
      w.wake({ kind: 'news' });
      return;
    }
    w.keys = keys;
    w.due = performance.now() + ms;
    // every wait is in `all`, which is what the store-wide key wakes
    for (const k of keys) if (k !== ALL) this.add(k, w);
    this.all.add(w);
    this.deadlines.add(w);
    w.stopListening = gone.whenGone(() => this.end(w, 'aborted'));
  }

  /** Ends a wait (once: a wait already ended is no longer in `all`). */
  private end(w: Waiter, v: HoldEvent | 'timeout' | 'aborted'): void {
    if (!this.all.delete(w)) return;
    this.deadlines.remove(w);
    w.stopListening();
    w.stopListening = nothing;
    for (const k of w.keys) if (k !== ALL) this.removeKey(k, w);
    w.wake(v);
  }

  private add(key: string, w: Waiter): void {
    const now = this.byKey.get(key);
    if (!now) this.byKey.set(key, w);
    else if (now instanceof Set) now.add(w);
    else this.byKey.set(key, new Set([now, w]));
  }

  private removeKey(key: string, w: Waiter): void {
    const now = this.byKey.get(key);
    if (now === w) this.byKey.delete(key);
    else if (now instanceof Set) {
      now.delete(w);
      if (now.size === 0) this.byKey.delete(key);
    }
  }
}
