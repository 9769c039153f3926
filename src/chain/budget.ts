/**
 * What callers hold at once, per caller and in all (body bytes in memory, reads forwarded and not
 * yet ended): past either, the caller gets a clear 429.
 */
export class Budget {
  private total = 0;
  private readonly byCaller = new Map<string, number>();
  constructor(
    readonly maxTotal: number,
    readonly maxPerCaller: number,
  ) {}

  take(caller: string, n: number): boolean {
    const mine = this.byCaller.get(caller) ?? 0;
    if (this.total + n > this.maxTotal || mine + n > this.maxPerCaller) return false;
    this.total += n;
    this.byCaller.set(caller, mine + n);
    return true;
  }

  give(caller: string, n: number): void {
    this.total -= n;
    const left = (this.byCaller.get(caller) ?? 0) - n;
    if (left > 0) this.byCaller.set(caller, left);
    else this.byCaller.delete(caller);
  }
}
