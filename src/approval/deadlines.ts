/** Something that ends at `due` (performance.now() ms): `at` is its place in the heap (-1 when not in it). */
export interface Timed {
  due: number;
  at: number;
}

/** setTimeout's longest delay; a later deadline is reached by waking early and arming again. */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Deadlines kept in one binary min-heap under one timer, armed for the earliest: ten thousand
 * held requests cost ten thousand array slots, not ten thousand timers (each a Timeout object, a
 * closure, and a timer list per distinct delay).
 */
export class Deadlines<T extends Timed> {
  private heap: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  constructor(private readonly expire: (t: T) => void) {}

  get size(): number {
    return this.heap.length;
  }

  add(t: T): void {
    t.at = this.heap.length;
    this.heap.push(t);
    this.up(t.at);
    if (t.due < this.armedFor) this.arm();
  }

  /**
   * Takes it out (once ended some other way). A timer armed for it fires, finds nothing and re-arms;
   * with nothing left, the timer goes (it must not keep a closing process alive).
   */
  remove(t: T): void {
    const i = t.at;
    if (i < 0) return;
    t.at = -1;
    const last = this.heap.pop() as T;
    if (this.heap.length === 0) this.disarm();
    if (i === this.heap.length) return;
    this.heap[i] = last;
    last.at = i;
    this.down(i);
    this.up(last.at);
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    try {
      for (let first = this.heap[0]; first && first.due <= now; first = this.heap[0]) {
        this.remove(first);
        this.expire(first);
      }
    } finally {
      // armed again whatever one expiry did: no later deadline may be left without a timer
      this.arm();
    }
  };

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    this.disarm();
    const first = this.heap[0];
    this.armedFor = first ? first.due : Number.POSITIVE_INFINITY;
    if (!first) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, Math.ceil(first.due - performance.now())));
    this.timer = setTimeout(this.onTimer, delay);
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as T;
      if (parent.due <= t.due) break;
      h[i] = parent;
      parent.at = i;
      i = p;
    }
    h[i] = t;
    t.at = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const t = h[i] as T;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && (h[c + 1] as T).due < (h[c] as T).due) c++;
      const child = h[c] as T;
      if (child.due >= t.due) break;
      h[i] = child;
      child.at = i;
      i = c;
    }
    h[i] = t;
    t.at = i;
  }
}
