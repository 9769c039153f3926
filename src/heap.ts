import v8 from 'node:v8';

/** Parked requests from which the heap is kept tight, and below which V8 sizes it again. */
const TIGHT_FROM = 1000;
const LOOSE_BELOW = 500;
let tight = false;

/**
 * With thousands of requests parked, kubegate's old generation may grow only 10% past what
 * survived its last full GC, not V8's default (a small heap may double or more first). Parked
 * requests arrive in bursts of long-lived objects, and with the default the garbage made while
 * they arrived stayed in the heap with them: 10 000 held over HTTP/2 took 257 MB of RSS, 217 MB
 * kept tight. Only then: kept tight always, a GET cost 7% more CPU (more full GCs). V8 reads this
 * flag each time it sets its next limit, so it can change while kubegate runs (and NODE_OPTIONS
 * does not accept it).
 */
export function sizeHeapFor(parked: number): boolean {
  const want = tight ? parked >= LOOSE_BELOW : parked >= TIGHT_FROM;
  if (want !== tight) {
    tight = want;
    v8.setFlagsFromString(`--heap-growing-percent=${tight ? 10 : 0}`);
  }
  return tight;
}
