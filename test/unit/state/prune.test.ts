import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pruneRules, schedulePruning } from '../../../src/state/prune.js';
import type { PruneRules, StateStore } from '../../../src/state/store.js';

afterEach(() => vi.useRealTimers());

/** Pruning every 1000 ms, the first pass after `firstMs`. */
const schedule = (store: StateStore, firstMs: number) =>
  schedulePruning(store, () => pruneRules(Date.now(), 900, 30), pino({ level: 'silent' }), 1000, firstMs);

describe('schedulePruning', () => {
  it('prunes after the first delay, then periodically, never two passes at once, and stops', async () => {
    vi.useFakeTimers();
    const seen: PruneRules[] = [];
    let release: (() => void) | undefined;
    const store = {
      prune: (r: PruneRules) => {
        seen.push(r);
        return new Promise<number>((resolve) => {
          release = () => resolve(3);
        });
      },
    } as unknown as StateStore;
    const stop = schedule(store, 100);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(1);
    // the first pass is still running when the interval fires: no second pass on top of it
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(1);
    release?.();
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toHaveLength(2);
    release?.();
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toHaveLength(2);
  });

  it('a failing pass is logged and retried on the next tick', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const store = {
      prune: async () => {
        calls++;
        if (calls === 1) throw new Error('apiserver away');
        return 0;
      },
    } as unknown as StateStore;
    const stop = schedule(store, 10);
    await vi.advanceTimersByTimeAsync(1010);
    expect(calls).toBe(2);
    stop();
  });
});
