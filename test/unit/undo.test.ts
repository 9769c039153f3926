// The field-level undo planner: each change is undone by exactly what it did, with preconditions.
import { describe, expect, it } from 'vitest';
import { type ExecutedChange, planUndo, UndoError, type UndoRequest } from '../../src/rollback/undo.js';

type Obj = Record<string, unknown>;

const change = (over: Partial<ExecutedChange>): ExecutedChange => ({
  verb: 'patch',
  group: 'apps',
  version: 'v1',
  resource: 'deployments',
  subresource: '',
  namespace: 'prod',
  name: 'web',
  before: null,
  after: null,
  ...over,
});

/** A Deployment as the apiserver returns it, with the server fields a diff must ignore. */
const deployment = (o: { replicas?: number; image?: string; rv?: string; uid?: string } = {}): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'prod',
    uid: o.uid ?? 'uid-1',
    resourceVersion: o.rv ?? '10',
    generation: Number(o.rv ?? '10'),
    creationTimestamp: '2024-01-01T00:00:00Z',
    managedFields: [{ manager: 'kubectl', time: o.rv ?? '10' }],
    labels: { app: 'web' },
    annotations: { 'deployment.kubernetes.io/revision': o.rv ?? '10' },
  },
  spec: {
    replicas: o.replicas ?? 1,
    template: { spec: { containers: [{ name: 'web', image: o.image ?? 'web:1' }] } },
  },
  status: { replicas: o.replicas ?? 1, observedGeneration: 1 },
});

/** Enough of RFC 6902 (test/add/replace/remove on object members) to run the plans; atomic like the apiserver. */
function applyPatch(doc: Obj, ops: unknown): Obj {
  const out = structuredClone(doc);
  for (const op of ops as { op: string; path: string; value?: unknown }[]) {
    const keys = op.path
      .slice(1)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let parent: unknown = out;
    for (const k of keys) parent = (parent as Obj | undefined)?.[k];
    if (typeof parent !== 'object' || parent === null || Array.isArray(parent))
      throw new Error(`no parent object for ${op.path}`);
    const p = parent as Obj;
    if (op.op === 'test') {
      if (JSON.stringify(p[last]) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (op.op === 'add') p[last] = op.value;
    else if (op.op === 'replace' || op.op === 'remove') {
      if (!Object.hasOwn(p, last)) throw new Error(`nothing at ${op.path}`);
      if (op.op === 'replace') p[last] = op.value;
      else delete p[last];
    } else throw new Error(`unsupported op ${op.op}`);
  }
  return out;
}

const refusal = (c: ExecutedChange, current: Obj | null): string => {
  try {
    planUndo(c, current);
  } catch (e) {
    expect(e).toBeInstanceOf(UndoError);
    return (e as Error).message;
  }
  throw new Error('planUndo did not refuse');
};

const get = (o: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((cur, k) => (cur as Obj | undefined)?.[k], o);

describe('planUndo: create', () => {
  const created = { metadata: { name: 'cfg', namespace: 'prod', uid: 'uid-7' }, data: { a: '1' } };
  const create = change({ verb: 'create', group: '', resource: 'configmaps', name: 'cfg', after: created });

  it('deletes exactly the object the create made, bound to its uid', () => {
    const plan = planUndo(create, created);
    expect(plan).toMatchObject<Partial<UndoRequest>>({
      verb: 'delete',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      subresource: '',
      namespace: 'prod',
      name: 'cfg',
      contentType: 'application/json',
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: 'uid-7' } },
    });
    expect(plan.effect).toBe('configmaps prod/cfg will be deleted');
  });

  it('refuses without the uid of what it created', () => {
    expect(refusal({ ...create, after: null }, created)).toMatch(/did not see the object it created/);
    expect(refusal({ ...create, after: { metadata: { name: 'cfg' } } }, created)).toMatch(/did not see/);
  });

  it('refuses when the object is gone', () => {
    expect(refusal(create, null)).toMatch(/no longer exists: nothing to undo/);
  });

  it('refuses to delete an object re-created since (another uid)', () => {
    const newer = { ...created, metadata: { ...created.metadata, uid: 'uid-8' } };
    expect(refusal(create, newer)).toMatch(
      /deleted and re-created since: refusing to delete the newer object/,
    );
  });

  it('refuses a create on a subresource (token, binding, eviction): it made no object by that name', () => {
    for (const [resource, subresource] of [
      ['serviceaccounts', 'token'],
      ['pods', 'binding'],
      ['pods', 'eviction'],
    ] as const) {
      const c = { ...create, resource, subresource, name: 'x', after: { metadata: { uid: 'u' } } };
      expect(refusal(c, { metadata: { name: 'x', uid: 'u' } })).toMatch(/did not create the object it names/);
    }
  });
});

describe('planUndo: delete', () => {
  const deleted = deployment({ replicas: 2 });
  const del = change({ verb: 'delete', before: deleted, after: null });

  it('re-creates the snapshot without server fields or status', () => {
    const plan = planUndo(del, null);
    expect(plan).toMatchObject({
      verb: 'create',
      name: '',
      subresource: '',
      contentType: 'application/json',
    });
    const body = plan.body as Obj;
    expect(body.status).toBeUndefined();
    expect(body.metadata).toEqual({
      name: 'web',
      namespace: 'prod',
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': '10' },
    });
    expect(body.spec).toEqual(deleted.spec);
    expect(plan.effect).toMatch(/new uid/);
  });

  it('takes the name from the snapshot when the change has none', () => {
    expect(planUndo({ ...del, name: '' }, null).effect).toMatch(/^deployments\.apps prod\/web /);
  });

  it('refuses without a snapshot', () => {
    expect(refusal({ ...del, before: null }, null)).toMatch(/no snapshot/);
  });

  it('refuses when the object exists again', () => {
    expect(refusal(del, deployment({ uid: 'uid-2' }))).toMatch(/exists again: refusing to overwrite it/);
  });
});

describe('planUndo: update, patch, scale', () => {
  // `kubectl scale --replicas=3`, then a separately approved image change
  const scale = change({
    verb: 'update',
    subresource: 'scale',
    before: deployment({ replicas: 1, rv: '10' }),
    after: deployment({ replicas: 3, rv: '11' }),
  });
  const later = deployment({ replicas: 3, image: 'web:2', rv: '12' });

  it('undoes a scale 1 -> 3 by patching only spec.replicas; the later image change stays', () => {
    const plan = planUndo(scale, later);
    expect(plan).toMatchObject({
      verb: 'patch',
      subresource: '',
      name: 'web',
      contentType: 'application/json-patch+json',
    });
    expect(plan.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-1' },
      { op: 'test', path: '/spec/replicas', value: 3 },
      { op: 'replace', path: '/spec/replicas', value: 1 },
    ]);
    expect(plan.effect).toBe('spec.replicas 3 -> 1');
    expect(plan.steps).toEqual(['set spec.replicas back to 1 (the change set 3)']);
    const undone = applyPatch(later, plan.body);
    expect(get(undone, 'spec', 'replicas')).toBe(1);
    expect(get(undone, 'spec', 'template')).toEqual(get(later, 'spec', 'template'));
  });

  it('refuses when a field the change set was changed again', () => {
    const message = refusal(scale, deployment({ replicas: 5, rv: '12' }));
    expect(message).toBe(
      'kubegate cannot undo this: spec.replicas changed again since (the change set 3, it is now 5); undo it by hand',
    );
  });

  it('refuses to patch an object re-created since, or one that is gone', () => {
    expect(refusal(scale, deployment({ replicas: 3, uid: 'uid-2' }))).toMatch(/deleted and re-created since/);
    expect(refusal(scale, null)).toMatch(/no longer exists/);
  });

  it('a patch fails at its uid test when applied to another object', () => {
    const plan = planUndo(scale, later);
    expect(() => applyPatch(deployment({ replicas: 3, uid: 'uid-2' }), plan.body)).toThrow(/test failed/);
  });

  it('restores added, removed and replaced fields and keeps every other current field', () => {
    const before = deployment();
    const after = structuredClone(before);
    (after.metadata as Obj).labels = { app: 'web', tier: 'front' }; // added
    delete (after.spec as Obj).replicas; // removed
    (after.spec as Obj).template = { spec: { containers: [{ name: 'web', image: 'web:9' }] } }; // list: leaf
    const current = structuredClone(after);
    (current.metadata as Obj).annotations = { team: 'a', 'deployment.kubernetes.io/revision': '11' };
    (current.spec as Obj).paused = true;
    const plan = planUndo(change({ before, after }), current);
    expect(plan.effect).toBe(
      'metadata.labels.tier "front" -> (unset); spec.replicas (unset) -> 1; spec.template.spec.containers [{"name":"web","image":"web:9"}] -> [{"name":"web","image":"web:1"}]',
    );
    expect(plan.steps).toHaveLength(3);
    const undone = applyPatch(current, plan.body);
    expect(get(undone, 'metadata', 'labels')).toEqual({ app: 'web' });
    expect(get(undone, 'spec', 'replicas')).toBe(1);
    expect(get(undone, 'spec', 'template')).toEqual(get(before, 'spec', 'template'));
    expect(get(undone, 'spec', 'paused')).toBe(true);
    expect(get(undone, 'metadata', 'annotations')).toEqual(get(current, 'metadata', 'annotations'));
  });

  it('escapes "~" and "/" in keys (RFC 6901)', () => {
    const before = deployment();
    const after = structuredClone(before);
    (after.metadata as Obj).labels = { app: 'web', 'example.com/a~b': 'x' };
    const plan = planUndo(change({ before, after }), after);
    expect(plan.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-1' },
      { op: 'test', path: '/metadata/labels/example.com~1a~0b', value: 'x' },
      { op: 'remove', path: '/metadata/labels/example.com~1a~0b' },
    ]);
    expect(plan.effect).toBe('metadata.labels["example.com/a~b"] "x" -> (unset)');
    expect(get(applyPatch(after, plan.body), 'metadata', 'labels')).toEqual({ app: 'web' });
  });

  it('a status change diffs only status and patches the status subresource', () => {
    const before = deployment();
    const after = deployment({ rv: '11' });
    (after.status as Obj).conditions = [{ type: 'Available', status: 'True' }];
    (after.spec as Obj).replicas = 7; // not the status change's doing: never touched
    const plan = planUndo(change({ verb: 'update', subresource: 'status', before, after }), after);
    expect(plan).toMatchObject({ verb: 'patch', subresource: 'status' });
    expect(plan.body).toEqual([
      { op: 'test', path: '/metadata/uid', value: 'uid-1' },
      { op: 'test', path: '/status/conditions', value: [{ type: 'Available', status: 'True' }] },
      { op: 'remove', path: '/status/conditions' },
    ]);
  });

  it('refuses when only server fields and status changed', () => {
    const c = change({ before: deployment({ rv: '10' }), after: deployment({ rv: '11' }) });
    (c.after!.status as Obj).replicas = 9;
    expect(refusal(c, c.after)).toBe('kubegate cannot undo this: the change left nothing to undo');
  });

  it('refuses without both snapshots', () => {
    expect(refusal({ ...scale, before: null }, later)).toMatch(/no snapshot/);
    expect(refusal({ ...scale, after: null }, later)).toMatch(/no snapshot/);
  });
});

describe('planUndo: what cannot be undone', () => {
  it('refuses connect, deletecollection, reads and unknown verbs with specific reasons', () => {
    expect(
      refusal(change({ verb: 'connect', group: '', resource: 'pods', subresource: 'exec' }), null),
    ).toMatch(/exec\/attach\/port-forward session cannot be undone/);
    expect(refusal(change({ verb: 'deletecollection', name: '' }), null)).toMatch(/deletecollection/);
    expect(refusal(change({ verb: 'get' }), null)).toMatch(/nothing to undo/);
    expect(refusal(change({ verb: 'constructor' }), null)).toMatch(
      /does not know how to undo a "constructor"/,
    );
  });

  it('refuses subresources other than scale and status', () => {
    const c = change({ group: '', resource: 'pods', subresource: 'ephemeralcontainers' });
    expect(refusal(c, null)).toMatch(/pods\/ephemeralcontainers cannot be undone/);
  });

  it('refuses a change that names no single object', () => {
    expect(refusal(change({ name: '' }), null)).toMatch(/this change names no single object/);
    expect(refusal(change({ verb: 'create', name: '' }), null)).toMatch(/names no single object/);
    expect(refusal(change({ verb: 'delete', name: '', before: { spec: {} } }), null)).toMatch(
      /names no single object/,
    );
  });
});
