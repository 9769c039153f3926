// The rollback plan `approve-cli show` prints: how each kind of change is undone.
import { describe, expect, it } from 'vitest';
import { describeChange } from '../../../src/approvecli/change.js';
import { rollbackPlan } from '../../../src/approvecli/rollback.js';
import type { PendingDetail } from '../../../src/wire/request-view.js';
import { detail } from './helpers.js';

const plan = (over: Partial<PendingDetail>) => {
  const d = detail(over);
  return rollbackPlan('req-1', d, describeChange(d));
};

describe('rollbackPlan', () => {
  it('patch: restores the previous value of every field it changes', () => {
    expect(
      plan({ body: { metadata: { labels: { app: null, tier: 'web' } }, spec: { replicas: 3 } } }),
    ).toEqual([
      'restore previous values on deployments.apps production/api:',
      '  metadata.labels.app = "api"',
      '  remove metadata.labels.tier',
      '  spec.replicas = 1',
      'or restore from the snapshot kubegate keeps of the live object (resourceVersion 4242): approve-cli rollback req-1',
    ]);
  });

  it('json patch: an appended list item is removed again', () => {
    const p = plan({
      contentType: 'application/json-patch+json',
      body: [{ op: 'add', path: '/spec/template/spec/containers/0/env/-', value: { name: 'X' } }],
    });
    expect(p[1]).toBe('  remove the item appended to spec.template.spec.containers[0].env');
  });

  it('update: lists old values, including removed list items', () => {
    const p = plan({
      verb: 'update',
      body: {
        metadata: { name: 'api', resourceVersion: '4242', labels: { app: 'api' } },
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        spec: { replicas: 1, template: { spec: { containers: [] } } },
      },
    });
    expect(p).toContain(
      '  spec.template.spec.containers[0] = {"name":"api","image":"api:1.0","env":[{"name":"MODE","value":"a"}]}',
    );
  });

  it('scale: scale back to the old replica count', () => {
    expect(plan({ subresource: 'scale', body: { spec: { replicas: 5 } } })).toEqual([
      'scale back to 1: kubectl scale deployments.apps -n production api --replicas=1',
    ]);
  });

  it('a change that changes nothing has nothing to undo', () => {
    expect(plan({ body: { spec: { replicas: 1 } } })).toEqual([
      'nothing to undo: every field it sets already has that value',
    ]);
  });

  it('a patch without a live object cannot name old values', () => {
    expect(plan({ oldObject: null })[0]).toMatch(/^no snapshot/);
  });

  it('delete: re-create from the snapshot, with what that does not bring back', () => {
    const p = plan({ verb: 'delete', body: null });
    expect(p[0]).toBe(
      're-create from the snapshot kubegate keeps of the live object (resourceVersion 4242): approve-cli rollback req-1',
    );
    expect(p.join('\n')).toMatch(/garbage-collected/);
    expect(plan({ verb: 'delete', body: { propagationPolicy: 'Orphan' } }).join('\n')).not.toMatch(
      /garbage-collected/,
    );
    const ns = plan({
      verb: 'delete',
      group: '',
      version: 'v1',
      resource: 'namespaces',
      namespace: '',
      name: 'production',
      body: null,
    });
    expect(ns.join('\n')).toMatch(/does not bring those objects back/);
    const pvc = plan({
      verb: 'delete',
      group: '',
      resource: 'persistentvolumeclaims',
      name: 'data',
      body: null,
    });
    expect(pvc.join('\n')).toMatch(/data on the volume may be gone/);
    expect(plan({ verb: 'delete', body: null, oldObject: null })[0]).toMatch(/^no snapshot/);
  });

  it('create: delete the created object', () => {
    const base = { verb: 'create', group: '', resource: 'configmaps', name: '', oldObject: null } as const;
    expect(plan({ ...base, body: { metadata: { name: 'cfg' } } })).toEqual([
      'delete the created object: kubectl delete configmaps -n production cfg',
    ]);
    expect(plan({ ...base, body: { metadata: { generateName: 'cfg-' } } })[0]).toMatch(/name is generated/);
    expect(plan({ ...base, resource: 'pods', subresource: 'eviction', name: 'web-1', body: {} })[0]).toMatch(
      /eviction deletes the pod/,
    );
  });

  it('exec and deletecollection say plainly that kubegate cannot undo them', () => {
    expect(plan({ verb: 'connect', resource: 'pods', subresource: 'exec', body: null })[0]).toMatch(
      /^cannot be undone/,
    );
    expect(plan({ verb: 'deletecollection', name: '', body: null })[0]).toMatch(/^no per-object snapshot/);
  });
});
