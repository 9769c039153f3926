// RFC 8785 canonical JSON of parsed JSON data, as the `canonicalize` package writes it (a unit test
// holds the two equal): what fingerprints hash, on the server and in approve-cli alike. Written
// here to allocate little on every change: keys sorted in place, member heads remembered.
import { KeyMemo } from './key-memo.js';

/**
 * Canonical JSON of `value`. Strict: NaN, ±Infinity, BigInt, functions and symbols (outside an
 * array, where JSON writes null), and cycles throw a TypeError rather than becoming something
 * another request's body could equal.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, []);
}

function encode(raw: unknown, stack: unknown[]): string {
  let v = raw;
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    v = (v as { toJSON: () => unknown }).toJSON();
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${v} is not allowed`);
      return JSON.stringify(v);
    case 'object': {
      if (v === null) return 'null';
      if (stack.includes(v)) throw new TypeError('Converting circular structure to JSON');
      stack.push(v);
      const out = Array.isArray(v)
        ? encodeArray(v, stack)
        : encodeObject(v as Record<string, unknown>, stack);
      stack.pop();
      return out;
    }
    default:
      throw new TypeError(`a ${typeof v} is not JSON`);
  }
}

function encodeArray(arr: unknown[], stack: unknown[]): string {
  let out = '[';
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ',';
    const item = arr[i];
    out += item === undefined || typeof item === 'symbol' ? 'null' : encode(item, stack);
  }
  return `${out}]`;
}

function encodeObject(obj: Record<string, unknown>, stack: unknown[]): string {
  let out = '{';
  for (const k of sortedKeys(obj)) {
    const item = obj[k];
    if (item === undefined || typeof item === 'symbol') continue;
    const head = memberHead(k);
    out += (out.length > 1 ? head.next : head.first) + encode(item, stack);
  }
  return `${out}}`;
}

/**
 * An object's own keys in RFC 8785 order: by UTF-16 code units, which is how `>` compares strings
 * (and Array#sort without a comparator).
 */
export function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  return keys.length > 32 ? keys.sort() : sortInPlace(keys, (x, y) => x > y);
}

/**
 * Insertion sort, in place and stable: for the handful of keys or fields of one object, often in
 * order already (Array#sort allocates work arrays on every call).
 */
export function sortInPlace<T>(items: T[], after: (x: T, y: T) => boolean): T[] {
  for (let i = 1; i < items.length; i++) {
    const item = items[i] as T;
    let j = i - 1;
    while (j >= 0 && after(items[j] as T, item)) {
      items[j + 1] = items[j] as T;
      j--;
    }
    items[j + 1] = item;
  }
  return items;
}

/** `"key":` and `,"key":`: what a member starts with, first in its object or after another. */
export interface MemberHead {
  first: string;
  next: string;
}

const heads = new KeyMemo<MemberHead>((key) => {
  const first = `${JSON.stringify(key)}:`;
  return { first, next: `,${first}` };
});

export const memberHead = (key: string): MemberHead => heads.get(key);

/** How many member heads are remembered (for tests of the bound). */
export const rememberedHeads = (): number => heads.size;
