/**
 * A function of an object key, remembered for the first few thousand short keys: keys repeat from
 * request to request (a body's field names), and a caller's endless distinct or long keys must not
 * grow memory (past the bound, the value is computed every time).
 */
export class KeyMemo<V> {
  private readonly seen = new Map<string, V>();

  constructor(
    private readonly compute: (key: string) => V,
    private readonly maxKeys = 4096,
    private readonly maxKeyLength = 128,
  ) {}

  get(key: string): V {
    const known = this.seen.get(key);
    if (known !== undefined) return known;
    const value = this.compute(key);
    if (this.seen.size < this.maxKeys && key.length <= this.maxKeyLength) this.seen.set(key, value);
    return value;
  }

  /** How many keys are remembered (for tests of the bound). */
  get size(): number {
    return this.seen.size;
  }
}
