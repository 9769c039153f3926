import { childPath, deepEqual, formatValue, isObj, keyedPath, type Obj } from './values.js';

/**
 * One field-level change against the live object. `old` undefined means the
 * field is not set today; a `note` is something a field diff cannot express
 * (a strategic-merge directive, a reordered list), with how to undo it if that matters.
 */
export type Change =
  | { kind: 'set'; path: string; old: unknown; new: unknown }
  | { kind: 'remove'; path: string; old: unknown }
  | { kind: 'note'; path: string; text: string; undo?: string };

export function renderChange(c: Change): string {
  switch (c.kind) {
    case 'set':
      return `${c.path}: ${formatValue(c.old)} -> ${formatValue(c.new)}`;
    case 'remove':
      return `${c.path}: ${formatValue(c.old)} -> (removed)`;
    case 'note':
      return `${c.path}: ${c.text}`;
  }
}

/** Keys Kubernetes merges lists of objects by (containers and env by name, volumeMounts by mountPath...). */
const MERGE_KEYS = ['name', 'mountPath', 'containerPort', 'port', 'devicePath', 'ip', 'topologyKey', 'type'];

/** The key every element carries with a distinct primitive value, if any: lists are then matched by it. */
export function mergeKeyOf(...lists: unknown[][]): string | undefined {
  return MERGE_KEYS.find((k) =>
    lists.every((list) => {
      const vals = list.map((e) => (isObj(e) ? e[k] : undefined));
      return (
        vals.every((v) => typeof v === 'string' || typeof v === 'number') &&
        new Set(vals).size === vals.length
      );
    }),
  );
}

export interface DiffOptions {
  /** Paths whose subtree is bookkeeping: a change there is one note, not its leaves. */
  collapse?: Set<string>;
  /** Paths the server keeps when the new document omits them (uid, creationTimestamp...). */
  serverKept?: Set<string>;
}

/**
 * Walks the old and the new document and lists changed, added and removed leaf
 * fields. Lists of objects sharing a merge key (name, mountPath...) are matched
 * by it; other lists by position.
 */
export function diffValues(oldV: unknown, newV: unknown, path = '', opts: DiffOptions = {}): Change[] {
  if (deepEqual(oldV, newV)) return [];
  if (newV === undefined && opts.serverKept?.has(path)) return [];
  if (opts.collapse?.has(path)) return [{ kind: 'note', path, text: 'changed (bookkeeping, not shown)' }];
  if (newV === undefined) return [{ kind: 'remove', path: path || '(whole object)', old: oldV }];
  if (oldV === undefined && isObj(newV) && Object.keys(newV).length) {
    return Object.entries(newV).flatMap(([k, v]) => diffValues(undefined, v, childPath(path, k), opts));
  }
  if (isObj(oldV) && isObj(newV)) {
    const keys = [...Object.keys(oldV), ...Object.keys(newV).filter((k) => !Object.hasOwn(oldV, k))];
    return keys.flatMap((k) => diffValues(oldV[k], newV[k], childPath(path, k), opts));
  }
  if (Array.isArray(oldV) && Array.isArray(newV)) {
    const key = oldV.length && newV.length ? mergeKeyOf(oldV, newV) : undefined;
    if (key) return diffKeyedLists(oldV as Obj[], newV as Obj[], key, path, opts);
    const out: Change[] = [];
    for (let i = 0; i < Math.max(oldV.length, newV.length); i++) {
      out.push(...diffValues(oldV[i], i < newV.length ? newV[i] : undefined, childPath(path, i), opts));
    }
    return out;
  }
  return [{ kind: 'set', path: path || '(whole object)', old: oldV, new: newV }];
}

function diffKeyedLists(oldL: Obj[], newL: Obj[], key: string, path: string, opts: DiffOptions): Change[] {
  const out: Change[] = [];
  const byKey = new Map(oldL.map((e) => [e[key], e]));
  const newKeys = new Set(newL.map((e) => e[key]));
  for (const e of oldL)
    if (!newKeys.has(e[key])) out.push({ kind: 'remove', path: keyedPath(path, key, e[key]), old: e });
  for (const e of newL) {
    const p = keyedPath(path, key, e[key]);
    const before = byKey.get(e[key]);
    out.push(
      ...(before
        ? diffValues(before, e, p, opts)
        : [{ kind: 'set' as const, path: p, old: undefined, new: e }]),
    );
  }
  const oldOrder = oldL.map((e) => e[key]).filter((k) => newKeys.has(k));
  const newOrder = newL.map((e) => e[key]).filter((k) => byKey.has(k));
  if (!deepEqual(oldOrder, newOrder))
    out.push({
      kind: 'note',
      path,
      text: `reordered: ${formatValue(newOrder)}`,
      undo: `put back in the order ${formatValue(oldOrder)}`,
    });
  return out;
}

/**
 * What a JSON merge patch (RFC 7386) or a strategic merge patch sets, against
 * the current values: `null` removes a field, objects merge, lists are replaced
 * (merge patch) or merged by their key (strategic, e.g. containers by name).
 */
export function mergePatchChanges(oldV: unknown, patch: unknown, strategic: boolean, path = ''): Change[] {
  if (!isObj(patch)) return diffValues(oldV, patch, path);
  const old = isObj(oldV) ? oldV : {};
  const out: Change[] = [];
  if (oldV !== undefined && oldV !== null && !isObj(oldV))
    out.push({ kind: 'remove', path: path || '(whole object)', old: oldV });
  for (const [k, v] of Object.entries(patch)) {
    const p = childPath(path, k);
    const before = Object.hasOwn(old, k) ? old[k] : undefined;
    if (strategic && k.startsWith('$')) {
      out.push({ kind: 'note', path: p, text: `${formatValue(v)} (strategic-merge directive)` });
    } else if (v === null) {
      if (before !== undefined) out.push({ kind: 'remove', path: p, old: before });
    } else if (isObj(v)) {
      out.push(...mergePatchChanges(before, v, strategic, p));
    } else if (Array.isArray(v) && strategic && Array.isArray(before)) {
      out.push(...strategicList(before, v, p));
    } else {
      out.push(...diffValues(before, v, p));
    }
  }
  return out;
}

function strategicList(before: unknown[], patch: unknown[], path: string): Change[] {
  const items = patch.filter(isObj);
  const key =
    items.length === patch.length && items.length
      ? mergeKeyOf(items, before.length ? before : items)
      : undefined;
  if (!key) return diffValues(before, patch, path); // primitives (or no merge key): the list is replaced
  const out: Change[] = [];
  const byKey = new Map(before.filter(isObj).map((e) => [e[key], e]));
  for (const e of items) {
    const p = keyedPath(path, key, e[key]);
    const old = byKey.get(e[key]);
    if (e.$patch === 'delete') {
      if (old) out.push({ kind: 'remove', path: p, old });
    } else if (old) {
      const { [key]: _k, ...rest } = e;
      out.push(...mergePatchChanges(old, rest, true, p));
    } else {
      out.push({ kind: 'set', path: p, old: undefined, new: e });
    }
  }
  return out;
}
