// Fingerprints hash src/wire/canonical.ts's text; approvals signed before it replaced the
// `canonicalize` package must still match, so the two must write the same text for any JSON data.
import canonicalizeModule from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sortedKeys } from '../../src/wire/canonical.js';

type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/** n keys out of order, some non-ASCII (insertion sort up to 32 keys, Array#sort beyond). */
const many = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      `${['é', 'Z', 'a', '\u{1F600}', '', '10'][i % 6]}${(i * 7919) % n}`,
      i,
    ]),
  );

const VALUES: unknown[] = [
  null,
  'text "quoted" \n \u2028 \ud800',
  [1.5, -0, 1e21, 5e-324, 0.1, -1e-7, 123456789012345680000],
  many(5),
  many(32),
  many(33),
  many(200),
  { b: 1, a: 2, é: 3, '\u{1F600}': 4, A: 5, '': 6, '10': 7, '9': 8, '\u00e9\u0301': 9, '\uff61': 10 },
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, annotations: {} },
    spec: {
      replicas: 3,
      template: {
        spec: { containers: [{ name: 'c', image: 'nginx', args: [], env: [{ name: 'A', value: '1' }] }] },
      },
    },
  },
  { nested: [[{ b: null, a: [true, false, 'x'] }]], empty: {}, list: [] },
  { when: new Date(0), gone: undefined, list: [undefined, 1] },
];

describe('canonicalJson: what fingerprints hash', () => {
  it('writes what the canonicalize package writes', () => {
    for (const v of VALUES) expect(canonicalJson(v)).toBe(canonicalize(v));
  });

  it('throws on what JSON cannot hold, as canonicalize does for non-finite numbers', () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => canonicalJson({ a: [n] })).toThrow(TypeError);
      expect(() => canonicalize({ a: [n] })).toThrow();
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    // the same object twice side by side is not a cycle
    const shared = { a: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"a":1},{"a":1}]');
  });

  it('sorts keys by UTF-16 code units, as Array#sort does', () => {
    for (const n of [0, 1, 2, 7, 32, 33, 100]) {
      const o = many(n);
      expect(sortedKeys(o)).toEqual(Object.keys(o).sort());
    }
  });
});
