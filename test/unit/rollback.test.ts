import { describe, expect, it } from 'vitest';
import { StatusError } from '../../src/kube/status.js';
import { planUndo } from '../../src/rollback.js';
import type { PendingDetail, Snapshot } from '../../src/state/store.js';

function snap(d: Partial<PendingDetail>, before: unknown = null): Snapshot {
  const detail: PendingDetail = {
    verb: 'create',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    subresource: '',
    namespace: 'default',
    name: '',
    path: '/api/v1/namespaces/default/configmaps',
    query: {},
    contentType: 'application/json',
    body: { metadata: { name: 'c' } },
    oldObject: null,
    override_required: false,
    approvals_required: 1,
    dry_run_first: false,
    policy: 'p',
    ...d,
  };
  return { requestId: 'req-1', target: 't', before, detail, createdAt: 0, executed: true };
}

const live = { metadata: { name: 'x', resourceVersion: '9', uid: 'u' }, spec: { replicas: 3 } };

describe('planUndo', () => {
  it('undoes a create by deleting what it made', () => {
    expect(planUndo(snap({}), live)).toMatchObject({
      method: 'DELETE',
      path: '/api/v1/namespaces/default/configmaps/c',
    });
  });

  it('never deletes the parent of a subresource create (token, eviction, binding)', () => {
    for (const [resource, subresource] of [
      ['serviceaccounts', 'token'],
      ['pods', 'eviction'],
      ['pods', 'binding'],
    ]) {
      const s = snap({
        resource,
        subresource,
        name: 'x',
        path: `/api/v1/namespaces/default/${resource}/x/${subresource}`,
      });
      expect(() => planUndo(s, live)).toThrow(StatusError);
      expect(() => planUndo(s, live)).toThrow(/cannot be undone/);
    }
  });

  it('restores the previous object for a scale change', () => {
    const s = snap(
      {
        verb: 'patch',
        group: 'apps',
        resource: 'deployments',
        subresource: 'scale',
        name: 'x',
        body: { spec: { replicas: 3 } },
      },
      { metadata: { name: 'x', resourceVersion: '7' }, spec: { replicas: 1 } },
    );
    const plan = planUndo(s, live);
    expect(plan).toMatchObject({ method: 'PUT', path: '/apis/apps/v1/namespaces/default/deployments/x' });
    expect(plan.effect).toBe('spec.replicas 3 -> 1; other fields as before the change');
  });
});
