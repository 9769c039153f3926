// Plans the one request that undoes an executed change, and nothing more: a create is undone by
// deleting that very object (uid precondition), a delete by re-creating the snapshot, an
// update/patch/scale/status change by a JSON patch that restores only the fields the change set,
// guarded by `test` operations so it fails rather than overwrite anything changed since.
// Pure: no I/O; the caller reads `current` and sends the request after approval.

type Obj = Record<string, unknown>;

/** What kubegate kept of one executed change. For scale/status the objects are the PARENT object. */
export interface ExecutedChange {
  verb: string; // create | update | patch | delete | deletecollection | connect | ...
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string; // '' for cluster-scoped
  name: string; // the object's name (for a create: the name of the object it created; '' if unknown)
  before: Obj | null; // the live object just before the change (null for a create)
  after: Obj | null; // the object as read just after the change ran (null for a delete)
}

/** One request that undoes it; path segments are given separately, never as a path string. */
export interface UndoRequest {
  verb: 'create' | 'patch' | 'delete';
  group: string;
  version: string;
  resource: string;
  subresource: '' | 'status';
  namespace: string;
  name: string; // '' for a create (POST to the collection)
  contentType: 'application/json' | 'application/json-patch+json';
  body: unknown;
  steps: string[]; // human-readable, for the approver
  effect: string; // one line, for the approver
}

export class UndoError extends Error {
  override readonly name = 'UndoError';
}

type Path = string[];
type PatchOp = { op: 'test' | 'add' | 'replace' | 'remove'; path: string; value?: unknown };

/** Metadata the server sets: never diffed (the change did not set it) and never sent back on a re-create. */
const SERVER_METADATA = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'managedFields',
  'generation',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];
/** Bumped by the deployment controller after a template change; restoring it would lie to the controller. */
const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

const VERB_REFUSALS = new Map<string, string>([
  ['connect', 'an exec/attach/port-forward session cannot be undone'],
  [
    'deletecollection',
    'a deletecollection removed a whole set of objects at once; kubegate undoes changes to one object only',
  ],
  ['get', 'a read changes nothing: there is nothing to undo'],
  ['list', 'a read changes nothing: there is nothing to undo'],
  ['watch', 'a read changes nothing: there is nothing to undo'],
]);
const UNDOABLE_VERBS = new Set(['create', 'delete', 'update', 'patch']);
const UNDOABLE_SUBRESOURCES = new Set(['', 'scale', 'status']);

const refuse = (why: string): UndoError => new UndoError(`kubegate cannot undo this: ${why}`);

/** The request that undoes `change`; `current` is the live object now (the parent for scale/status). */
export function planUndo(change: ExecutedChange, current: Obj | null): UndoRequest {
  checkUndoable(change);
  if (change.verb === 'create') return undoCreate(change, current);
  if (change.verb === 'delete') return undoDelete(change, current);
  return undoUpdate(change, current);
}

function checkUndoable(c: ExecutedChange): void {
  const refusal = VERB_REFUSALS.get(c.verb);
  if (refusal) throw refuse(refusal);
  if (!UNDOABLE_VERBS.has(c.verb)) throw refuse(`kubegate does not know how to undo a "${c.verb}"`);
  const sub = `${c.resource}/${c.subresource}`;
  // A create on a subresource (token, binding, eviction…) did not create the object it names:
  // deleting that object would destroy what the request never made.
  if (c.verb === 'create' && c.subresource !== '')
    throw refuse(`a create on ${sub} did not create the object it names; kubegate will not delete it`);
  if (c.verb === 'delete' && c.subresource !== '') throw refuse(`a delete of ${sub} cannot be undone`);
  if (!UNDOABLE_SUBRESOURCES.has(c.subresource))
    throw refuse(`a ${c.verb} of ${sub} cannot be undone (only an object, its scale or its status can)`);
  if (c.verb !== 'delete' && !c.name) throw refuse('this change names no single object');
}

function undoCreate(c: ExecutedChange, current: Obj | null): UndoRequest {
  const uid = uidOf(c.after);
  if (!c.after || !uid) throw refuse('kubegate did not see the object it created (no uid after the create)');
  checkIdentity(c, c.after, c.name);
  const target = targetOf(c, c.name);
  if (!current) throw refuse(`${target} no longer exists: nothing to undo`);
  if (uidOf(current) !== uid)
    throw refuse(`${target} was deleted and re-created since: refusing to delete the newer object`);
  return {
    ...where(c),
    verb: 'delete',
    subresource: '',
    name: c.name,
    contentType: 'application/json',
    body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid } },
    steps: [`delete ${target} (uid ${uid}), the object the change created`],
    effect: `${target} will be deleted`,
  };
}

function undoDelete(c: ExecutedChange, current: Obj | null): UndoRequest {
  if (!c.before) throw refuse('kubegate kept no snapshot of the object before the delete');
  const snapName = metadataOf(c.before).name;
  const name = c.name || (typeof snapName === 'string' ? snapName : '');
  if (!name) throw refuse('this change names no single object');
  checkIdentity(c, c.before, name);
  const target = targetOf(c, name);
  if (current) throw refuse(`${target} exists again: refusing to overwrite it`);
  const oldUid = uidOf(c.before);
  return {
    ...where(c),
    verb: 'create',
    subresource: '',
    name: '',
    contentType: 'application/json',
    body: recreated(c.before, name),
    steps: [
      `re-create ${target} from the snapshot taken before the delete (without server fields and status)`,
    ],
    effect: `${target} will exist again as before the delete, under a new uid${oldUid ? ` (it had ${oldUid})` : ''}`,
  };
}

/** The snapshot as a create body: the server assigns uid, resourceVersion…; controllers rebuild status. */
function recreated(before: Obj, name: string): Obj {
  const metadata: Obj = { ...metadataOf(before), name };
  for (const f of SERVER_METADATA) delete metadata[f];
  const { status: _status, ...rest } = before;
  return { ...rest, metadata };
}

function undoUpdate(c: ExecutedChange, current: Obj | null): UndoRequest {
  const { before, after } = c;
  if (!before || !after) throw refuse('kubegate kept no snapshot of the object before and after the change');
  checkIdentity(c, after, c.name);
  const uid = uidOf(after);
  if (!uid) throw refuse('kubegate did not see the uid of the object after the change');
  if (uidOf(before) && uidOf(before) !== uid) throw refuse('the objects before and after the change differ');
  const statusOnly = c.subresource === 'status';
  const paths = changedPaths(diffView(before, statusOnly), diffView(after, statusOnly));
  if (paths.length === 0) throw refuse('the change left nothing to undo');
  const target = targetOf(c, c.name);
  if (!current) throw refuse(`${target} no longer exists: cannot restore its previous state`);
  if (uidOf(current) !== uid)
    throw refuse(`${target} was deleted and re-created since: refusing to patch the newer object`);
  checkUnchanged(paths, after, current);
  const fields = paths.map((p) => undoField(p, before, after));
  return {
    ...where(c),
    verb: 'patch',
    subresource: statusOnly ? 'status' : '',
    name: c.name,
    contentType: 'application/json-patch+json',
    body: [{ op: 'test', path: '/metadata/uid', value: uid }, ...fields.flatMap((f) => f.ops)],
    steps: fields.map((f) => f.step),
    effect: fields.map((f) => f.effect).join('; '),
  };
}

/** What the diff compares: only status for a status change, otherwise everything the client could set. */
function diffView(obj: Obj, statusOnly: boolean): Obj {
  if (statusOnly) return Object.hasOwn(obj, 'status') ? { status: obj.status } : {};
  const { status: _status, ...rest } = obj;
  if (!isObj(rest.metadata)) return rest;
  const metadata: Obj = { ...rest.metadata };
  for (const f of SERVER_METADATA) delete metadata[f];
  if (isObj(metadata.annotations)) {
    const { [REVISION_ANNOTATION]: _revision, ...annotations } = metadata.annotations;
    // the apiserver omits an empty map, so {} and absent are the same object
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...rest, metadata };
}

/** Paths where a and b differ: plain objects recurse, lists and scalars are compared whole. */
function changedPaths(a: unknown, b: unknown, path: Path = [], out: Path[] = []): Path[] {
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) changedPaths(own(a, k), own(b, k), [...path, k], out);
  } else if (!deepEqual(a, b)) {
    out.push(path);
  }
  return out;
}

/** Refuses when any field the change set holds another value now: undoing would erase a later change. */
function checkUnchanged(paths: Path[], after: Obj, current: Obj): void {
  const conflicts: string[] = [];
  for (const p of paths) {
    const set = valueAt(after, p);
    const now = valueAt(current, p);
    const setBy = set === undefined ? 'the change removed it' : `the change set ${formatValue(set)}`;
    if (!deepEqual(set, now))
      conflicts.push(`${fieldName(p)} changed again since (${setBy}, it is now ${formatValue(now)})`);
    // a field the change removed goes back with `add`, which needs its parent object
    else if (set === undefined && p.length > 1 && !isObj(valueAt(current, p.slice(0, -1))))
      conflicts.push(`${fieldName(p.slice(0, -1))} changed again since (it is now absent)`);
  }
  if (conflicts.length > 0) throw refuse(`${conflicts.join('; ')}; undo it by hand`);
}

/** The JSON-patch operations, approver step and effect that restore one field. */
function undoField(p: Path, before: Obj, after: Obj): { ops: PatchOp[]; step: string; effect: string } {
  const path = pointer(p);
  const field = fieldName(p);
  const was = valueAt(before, p);
  const set = valueAt(after, p);
  const ops: PatchOp[] = set === undefined ? [] : [{ op: 'test', path, value: set }];
  if (was === undefined) ops.push({ op: 'remove', path });
  else ops.push({ op: set === undefined ? 'add' : 'replace', path, value: was });
  const step =
    was === undefined
      ? `remove ${field} (the change added ${formatValue(set)})`
      : set === undefined
        ? `restore ${field} = ${formatValue(was)} (the change removed it)`
        : `set ${field} back to ${formatValue(was)} (the change set ${formatValue(set)})`;
  return { ops, step, effect: `${field} ${shortValue(set)} -> ${shortValue(was)}` };
}

function checkIdentity(c: ExecutedChange, obj: Obj, name: string): void {
  const { name: objName, namespace: objNamespace } = metadataOf(obj);
  if (typeof objName === 'string' && objName !== name)
    throw refuse(`the change names ${JSON.stringify(name)} but its snapshot is ${JSON.stringify(objName)}`);
  if (typeof objNamespace === 'string' && objNamespace !== '' && objNamespace !== c.namespace)
    throw refuse(`the change is in namespace "${c.namespace}" but its snapshot in "${objNamespace}"`);
}

const where = (c: ExecutedChange) => ({
  group: c.group,
  version: c.version,
  resource: c.resource,
  namespace: c.namespace,
});

/** `deployments.apps prod/web`, as an approver reads it. */
const targetOf = (c: ExecutedChange, name: string): string =>
  `${c.resource}${c.group ? `.${c.group}` : ''} ${c.namespace ? `${c.namespace}/` : ''}${name}`;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Own properties only, so keys such as "constructor" or "__proto__" read as data. */
const own = (o: Obj, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined);

const metadataOf = (o: Obj | null): Obj => (o && isObj(o.metadata) ? o.metadata : {});

function uidOf(o: Obj | null): string {
  const uid = metadataOf(o).uid;
  return typeof uid === 'string' ? uid : '';
}

function valueAt(doc: unknown, p: Path): unknown {
  let cur = doc;
  for (const k of p) cur = isObj(cur) ? own(cur, k) : undefined;
  return cur;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObj(a) || !isObj(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  );
}

/** RFC 6901: `~` becomes `~0` before `/` becomes `~1`, so neither is read twice. */
const pointer = (p: Path): string => p.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** `spec.replicas`; odd keys bracketed: `metadata.annotations["example.com/x"]`. */
const fieldName = (p: Path): string =>
  p.reduce(
    (acc, k) => (/^[A-Za-z0-9_$-]+$/.test(k) ? (acc ? `${acc}.${k}` : k) : `${acc}[${JSON.stringify(k)}]`),
    '',
  );

const formatValue = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));

/** The effect is one line: long values are cut there (steps carry them whole). */
function shortValue(v: unknown): string {
  const s = formatValue(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
