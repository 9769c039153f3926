// A held request whose object changed since it was held: what moved, and whether the request
// touches it. kubegate binds an approval to the resourceVersion its approver saw, so one signed
// before the move no longer applies, and the approver decides again with this in front of them.
import type { PendingDetail } from '../wire/request-view.js';
import { describeChange } from './change.js';
import { isBinaryBody } from './describe.js';
import { type Change, diffValues, renderChange } from './diff.js';
import type { Moved, PendingView } from './types.js';
import { isObj } from './values.js';

/** Written by the apiserver on every write or by controllers (status): nobody's decision. */
const SERVER_MANAGED =
  /^(metadata\.(resourceVersion|generation|managedFields|selfLink|uid|creationTimestamp)|status)([.[]|$)/;

/** Longer lists are cut here: `show -o json` has moved.heldObject and detail.oldObject whole. */
const MAX_LINES = 20;

/** The fields someone changed between the object as held and as it is now. */
export function movedFields(moved: Moved, now: unknown): Change[] {
  return diffValues(moved.heldObject, now).filter((c) => !SERVER_MANAGED.test(c.path));
}

const PATCH_TYPES = new Set([
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
]);

/** Whether the request's effect is known field by field (a patch kubegate parses, an update). */
function fieldLevel(d: PendingDetail): boolean {
  if (isBinaryBody(d) && d.decoded === undefined) return false;
  return d.verb === 'update' || (d.verb === 'patch' && PATCH_TYPES.has(d.contentType));
}

/**
 * The paths a request sets, against the object as held and as it is now: a field the move already
 * set to the request's value is not a change now, but the request still sets it.
 */
export function touchedPaths(d: PendingDetail, moved: Moved): string[] {
  const now = describeChange(d).changes;
  const then = describeChange({ ...d, oldObject: moved.heldObject }).changes;
  return [...new Set([...now, ...then].map((c) => c.path))];
}

type Segment = { key: string } | { item: string };

/** `spec.containers[name=api].image` → key spec, key containers, item name=api, key image. */
function segments(path: string): Segment[] {
  if (path === '(whole object)') return [];
  const out: Segment[] = [];
  for (const m of path.matchAll(/\.?([A-Za-z0-9_$-]+)|\[("(?:[^"\\]|\\.)*")\]|\[([^\]]*)\]/g)) {
    if (m[1] !== undefined) out.push({ key: m[1] });
    else if (m[2] !== undefined) out.push({ key: JSON.parse(m[2]) as string });
    else out.push({ item: m[3]! });
  }
  return out;
}

/** A list position (`0`, `+`) and a merge key (`name=api`) may name the same item: count them as one. */
function sameSegment(a: Segment, b: Segment): boolean {
  if ('key' in a || 'key' in b) return 'key' in a && 'key' in b && a.key === b.key;
  if (a.item === b.item) return true;
  const positional = (s: string) => /^(\d+|\+)$/.test(s);
  return positional(a.item) !== positional(b.item);
}

/** One path is the other or lies inside it. */
export function pathsOverlap(a: string, b: string): boolean {
  const sa = segments(a);
  const sb = segments(b);
  return sa.slice(0, sb.length).every((s, i) => sameSegment(s, sb[i]!));
}

/** The fields that moved which the request also sets (or sets inside of). */
export function movedTouched(d: PendingDetail, moved: Moved, changes: Change[]): string[] {
  const touched = touchedPaths(d, moved);
  return changes.map((c) => c.path).filter((p) => touched.some((t) => pathsOverlap(p, t)));
}

/** The line that says whether this request and the move meet. */
function overlapLine(d: PendingDetail, moved: Moved, changes: Change[]): string {
  if (d.verb === 'delete') return 'this request deletes the whole object, as it is now';
  if (!fieldLevel(d) || !isObj(moved.heldObject))
    return `whether this request touches what moved cannot be told field by field (a ${d.verb}): read the change below`;
  const hit = movedTouched(d, moved, changes);
  if (!hit.length) return 'this request does not touch what moved';
  return `this request TOUCHES fields that moved: ${hit.join(', ')}`;
}

function changeLines(moved: Moved, now: unknown, changes: Change[]): string[] {
  if (!isObj(now)) return ['the object could not be read now'];
  if (!isObj(moved.heldObject)) return ['the object did not exist when the request was held; it does now'];
  if (!changes.length)
    return ['only server-managed fields changed (status, resourceVersion...): nobody edited it'];
  const shown = changes.slice(0, MAX_LINES).map(renderChange);
  if (changes.length > MAX_LINES)
    shown.push(
      `... and ${changes.length - MAX_LINES} more (show -o json: moved.heldObject vs detail.oldObject)`,
    );
  return shown;
}

/** What moved, and how `show` and `approve` name the versions. */
function describeMove(p: PendingView & { moved: Moved }): { changes: Change[]; versions: string } {
  const { moved, detail: d } = p;
  const changes = isObj(moved.heldObject) && isObj(d.oldObject) ? movedFields(moved, d.oldObject) : [];
  return { changes, versions: `resourceVersion ${moved.heldAt ?? '(none)'} -> ${moved.now}` };
}

/** `show`'s section for a moved request; empty when nothing moved. */
export function movedLines(p: PendingView): string[] {
  if (!p.moved) return [];
  const { moved, detail: d } = p;
  const { changes, versions } = describeMove({ ...p, moved });
  return [
    '',
    `MOVED: the object changed since this request was held (${versions}):`,
    ...changeLines(moved, d.oldObject, changes).map((l) => `  ${l}`),
    `  ${overlapLine(d, moved, changes)}`,
    `  an approval now is for resourceVersion ${moved.now}, the object as it is now (the change below is against it)`,
  ];
}

/** One line for `approve`'s stderr: what moved and whether the request touches it. */
export function movedNote(p: PendingView): string | undefined {
  if (!p.moved) return undefined;
  const { changes, versions } = describeMove({ ...p, moved: p.moved });
  return `note: ${p.id}: the object changed since it was held (${versions}); ${overlapLine(p.detail, p.moved, changes)}; this approval is for ${p.moved.now}`;
}
