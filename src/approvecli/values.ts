// Small helpers shared by the diff and the rendering: JSON values, field paths, JSON pointers.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return (
      ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
    );
  }
  return false;
}

/** A value as one line: strings quoted, objects as compact JSON, `undefined` as (unset). */
export function formatValue(v: unknown): string {
  if (v === undefined) return '(unset)';
  return JSON.stringify(v) ?? String(v);
}

/** `spec.template.spec.containers[name=api].image`; odd keys are bracketed: `labels["app.kubernetes.io/name"]`. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^\$?[A-Za-z0-9_-]+$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}

export function keyedPath(base: string, key: string, value: unknown): string {
  return `${base}[${key}=${typeof value === 'string' ? value : JSON.stringify(value)}]`;
}

/** RFC 6901: "/a/b~1c" → ["a", "b/c"]. */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value at a JSON pointer in a document, or undefined when there is none. */
export function atPointer(doc: unknown, tokens: string[]): unknown {
  let cur: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t)) return undefined;
      cur = cur[Number(t)];
    } else if (isObj(cur)) {
      cur = Object.hasOwn(cur, t) ? cur[t] : undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

/** A JSON pointer as a field path, numbering list items: "/spec/containers/0/image" → spec.containers[0].image. */
export function pointerPath(doc: unknown, tokens: string[]): string {
  let path = '';
  let cur: unknown = doc;
  for (const t of tokens) {
    if (Array.isArray(cur) && /^(0|[1-9][0-9]*)$/.test(t)) {
      path = childPath(path, Number(t));
      cur = cur[Number(t)];
    } else if (Array.isArray(cur) && t === '-') {
      path = `${path}[+]`;
      cur = undefined;
    } else {
      path = childPath(path, t);
      cur = isObj(cur) && Object.hasOwn(cur, t) ? cur[t] : undefined;
    }
  }
  return path || '(whole object)';
}

/** The `.` path of a value in an object, e.g. get(obj, ['spec', 'replicas']). */
export function getIn(doc: unknown, keys: string[]): unknown {
  let cur: unknown = doc;
  for (const k of keys) cur = isObj(cur) ? cur[k] : undefined;
  return cur;
}
