// What `approve-cli show` says a held request would change, for each kind of request.
import { describe, expect, it } from 'vitest';
import { describeChange } from '../../../src/approvecli/change.js';
import { diffValues, mergePatchChanges } from '../../../src/approvecli/diff.js';
import { detail, liveDeployment } from './helpers.js';

describe('merge and strategic merge patches', () => {
  it('shows each field the patch sets against its current value', () => {
    const c = describeChange(
      detail({
        body: { metadata: { labels: { app: null, tier: 'web' } }, spec: { replicas: 3, paused: false } },
      }),
    );
    expect(c.title).toMatch(/^merge patch of deployments.apps production\/api/);
    expect(c.lines).toEqual([
      'metadata.labels.app: "api" -> (removed)',
      'metadata.labels.tier: (unset) -> "web"',
      'spec.replicas: 1 -> 3',
      'spec.paused: (unset) -> false',
    ]);
  });

  it('says so when the patch changes nothing', () => {
    expect(describeChange(detail({ body: { spec: { replicas: 1 } } })).lines).toEqual([
      '(no field changes: every field it sets already has that value)',
    ]);
  });

  it('a merge patch replaces lists: every lost item is shown', () => {
    const changes = mergePatchChanges(
      liveDeployment,
      { spec: { template: { spec: { containers: [{ name: 'api', image: 'api:2' }] } } } },
      false,
    );
    const paths = changes.map((c) => `${c.kind} ${c.path}`);
    expect(paths).toContain('remove spec.template.spec.containers[name=sidecar]');
    expect(paths).toContain('set spec.template.spec.containers[name=api].image');
    expect(paths).toContain('remove spec.template.spec.containers[name=api].env');
  });

  it('a strategic patch merges lists by key, deletes with $patch and shows directives', () => {
    const c = describeChange(
      detail({
        contentType: 'application/strategic-merge-patch+json',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'api', image: 'api:2' },
                  { name: 'sidecar', $patch: 'delete' },
                  { name: 'log', image: 'fluent:1' },
                ],
                '$setElementOrder/containers': [{ name: 'api' }, { name: 'log' }],
              },
            },
          },
        },
      }),
    );
    expect(c.lines).toEqual([
      'spec.template.spec.containers[name=api].image: "api:1.0" -> "api:2"',
      'spec.template.spec.containers[name=sidecar]: {"name":"sidecar","image":"proxy:2"} -> (removed)',
      'spec.template.spec.containers[name=log]: (unset) -> {"name":"log","image":"fluent:1"}',
      'spec.template.spec["$setElementOrder/containers"]: [{"name":"api"},{"name":"log"}] (strategic-merge directive)',
    ]);
  });

  it('server-side apply is shown like a strategic patch, with the caveats', () => {
    const c = describeChange(
      detail({
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: ['ci'], force: ['true'] },
        body: { spec: { replicas: 2 } },
      }),
    );
    expect(c.lines).toEqual(['spec.replicas: 1 -> 2']);
    expect(c.notes.join('\n')).toMatch(/fieldManager ci.*removed too/);
    expect(c.notes.join('\n')).toMatch(/force=true/);
  });

  it('without a live object it says so and still lists what is set', () => {
    const c = describeChange(detail({ oldObject: null }));
    expect(c.lines).toEqual(['spec.replicas: (unset) -> 3']);
    expect(c.notes[0]).toMatch(/could not read the live object/);
  });
});

describe('json patches', () => {
  it('lists the operations with the live values they replace', () => {
    const c = describeChange(
      detail({
        contentType: 'application/json-patch+json',
        body: [
          { op: 'test', path: '/spec/replicas', value: 1 },
          { op: 'replace', path: '/spec/replicas', value: 4 },
          { op: 'remove', path: '/metadata/labels/app' },
          { op: 'add', path: '/metadata/labels/a~1b', value: 'c' },
          { op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'X', value: '1' } },
          { op: 'move', from: '/spec/replicas', path: '/spec/paused' },
          { op: 'frobnicate', path: '/x' },
        ],
      }),
    );
    expect(c.title).toMatch(/^json-patch of deployments.apps production\/api: operations/);
    expect(c.lines).toEqual([
      'test /spec/replicas == 1 (now 1)',
      'replace /spec/replicas: 1 -> 4',
      'remove /metadata/labels/app: "api" -> (removed)',
      'add /metadata/labels/a~1b: (unset) -> "c"',
      'add /spec/template/spec/containers/0/env/-: insert {"name":"X","value":"1"}',
      'move /spec/replicas -> /spec/paused (value 1)',
      'unknown operation "frobnicate" (the API server will refuse it): {"op":"frobnicate","path":"/x"}',
    ]);
    expect(c.changes).toContainEqual({
      kind: 'set',
      path: 'metadata.labels["a/b"]',
      old: undefined,
      new: 'c',
    });
    expect(c.changes).toContainEqual({
      kind: 'set',
      path: 'spec.template.spec.containers[0].env[+]',
      old: undefined,
      new: { name: 'X', value: '1' },
    });
  });

  it('refuses to guess at a body that is not a list of operations', () => {
    const c = describeChange(detail({ contentType: 'application/json-patch+json', body: { spec: {} } }));
    expect(c.lines[0]).toMatch(/^not a list of operations/);
  });
});

describe('updates (PUT)', () => {
  const next = {
    ...liveDeployment,
    metadata: {
      name: 'api',
      namespace: 'production',
      resourceVersion: '4242',
      labels: { app: 'api', tier: 'web' },
    },
    spec: {
      ...liveDeployment.spec,
      replicas: 2,
      template: { spec: { containers: [{ name: 'api', image: 'api:1.1', env: [] }] } },
    },
  };

  it('is a field diff of the whole object, ignoring server-kept metadata the body omits', () => {
    const c = describeChange(detail({ verb: 'update', contentType: 'application/json', body: next }));
    expect(c.title).toMatch(/^update of deployments.apps production\/api: field diff/);
    expect(c.lines).toEqual([
      'metadata.labels.tier: (unset) -> "web"',
      'spec.replicas: 1 -> 2',
      'spec.template.spec.containers[name=sidecar]: {"name":"sidecar","image":"proxy:2"} -> (removed)',
      'spec.template.spec.containers[name=api].image: "api:1.0" -> "api:1.1"',
      'spec.template.spec.containers[name=api].env[0]: {"name":"MODE","value":"a"} -> (removed)',
    ]);
    expect(c.notes).toEqual([]);
  });

  it('collapses managedFields and warns about a missing or stale resourceVersion', () => {
    const noRv = { ...next, metadata: { ...next.metadata, resourceVersion: undefined, managedFields: [] } };
    const c = describeChange(
      detail({ verb: 'update', contentType: 'application/json', body: JSON.parse(JSON.stringify(noRv)) }),
    );
    expect(c.lines).toContain('metadata.managedFields: changed (bookkeeping, not shown)');
    expect(c.notes).toContain(
      'the update carries no resourceVersion: it overwrites whatever is live when it runs',
    );
    const stale = { ...next, metadata: { ...next.metadata, resourceVersion: '4000' } };
    expect(describeChange(detail({ verb: 'update', body: stale })).notes[0]).toMatch(
      /"4000", live is "4242".*Conflict/,
    );
  });

  it('a status update diffs only the status', () => {
    const c = describeChange(
      detail({
        verb: 'update',
        subresource: 'status',
        body: { ...liveDeployment, spec: {}, status: { replicas: 0 } },
      }),
    );
    expect(c.lines).toEqual(['status.replicas: 1 -> 0']);
  });

  it('a Scale update compares replicas with the parent object', () => {
    const c = describeChange(
      detail({
        verb: 'update',
        subresource: 'scale',
        body: { kind: 'Scale', metadata: { name: 'api', resourceVersion: '4242' }, spec: { replicas: 5 } },
      }),
    );
    expect(c.lines).toEqual(['spec.replicas: 1 -> 5']);
  });
});

describe('creates, deletes, exec', () => {
  it('a create shows the body as YAML', () => {
    const c = describeChange(
      detail({
        verb: 'create',
        group: '',
        resource: 'configmaps',
        name: '',
        contentType: 'application/json',
        oldObject: null,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: 'b' } },
      }),
    );
    expect(c.title).toBe('creates configmaps production/cfg');
    expect(c.lines).toEqual([
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: cfg',
      'data:',
      '  a: b',
    ]);
  });

  it('a delete says what goes away and how', () => {
    const c = describeChange(
      detail({ verb: 'delete', contentType: '', body: { propagationPolicy: 'Foreground' } }),
    );
    expect(c.title).toBe('deletes deployments.apps production/api');
    expect(c.lines).toEqual([
      'Deployment production/api (uid u-1, resourceVersion 4242)',
      'created 2026-11-01T00:00:00Z',
      'labels: {"app":"api"}',
      'spec.replicas: 1',
      'options: propagationPolicy=Foreground',
    ]);
    expect(describeChange(detail({ verb: 'delete', body: null, oldObject: null })).lines[0]).toMatch(
      /could not be read/,
    );
  });

  it('a deletecollection names its selector, or shouts when there is none', () => {
    const sel = describeChange(
      detail({ verb: 'deletecollection', name: '', body: null, query: { labelSelector: ['app=api'] } }),
    );
    expect(sel.title).toBe('deletes every deployments.apps in namespace production');
    expect(sel.lines).toEqual(['matching labelSelector=app=api']);
    expect(
      describeChange(detail({ verb: 'deletecollection', name: '', body: null, query: {} })).lines[0],
    ).toMatch(/EVERYTHING/);
  });

  it('an exec shows the command', () => {
    const c = describeChange(
      detail({
        verb: 'connect',
        group: '',
        resource: 'pods',
        subresource: 'exec',
        body: null,
        query: { command: ['sh', '-c', 'rm -rf /data'], container: ['db'] },
      }),
    );
    expect(c.title).toBe('exec into pods production/api');
    expect(c.lines).toEqual(['container: db', 'command: ["sh","-c","rm -rf /data"]']);
  });
});

describe('diffValues', () => {
  it('matches lists without a merge key by position and reports reordering of keyed lists', () => {
    expect(diffValues([1, 2, 3], [1, 5], 'xs')).toEqual([
      { kind: 'set', path: 'xs[1]', old: 2, new: 5 },
      { kind: 'remove', path: 'xs[2]', old: 3 },
    ]);
    const reorder = diffValues([{ name: 'a' }, { name: 'b' }], [{ name: 'b' }, { name: 'a' }], 'c');
    expect(reorder).toEqual([
      { kind: 'note', path: 'c', text: 'reordered: ["b","a"]', undo: 'put back in the order ["a","b"]' },
    ]);
  });
});
