import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sizeHeapFor } from '../../src/heap.js';

describe('the heap is kept tight while thousands of requests are parked', () => {
  afterEach(() => {
    sizeHeapFor(0);
    vi.restoreAllMocks();
  });

  it('tightens from 1000 parked, and lets V8 size it again below 500 (not at every step)', () => {
    const set = vi.spyOn(v8, 'setFlagsFromString');
    expect(sizeHeapFor(999)).toBe(false);
    expect(sizeHeapFor(1000)).toBe(true);
    expect(sizeHeapFor(600)).toBe(true);
    expect(sizeHeapFor(1500)).toBe(true);
    expect(sizeHeapFor(499)).toBe(false);
    expect(sizeHeapFor(800)).toBe(false);
    expect(set.mock.calls).toEqual([['--heap-growing-percent=10'], ['--heap-growing-percent=0']]);
  });
});
