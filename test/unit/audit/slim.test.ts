import { describe, expect, it } from 'vitest';
import { slimBody, slimRecord } from '../../../src/audit/slim.js';

describe('what a record keeps of a body', () => {
  it('leaves managedFields out of an object and of each list item, nothing else', () => {
    const obj = {
      kind: 'ConfigMap',
      metadata: { name: 'c', managedFields: [{ manager: 'kubectl' }] },
      data: { a: '1' },
    };
    expect(slimBody(obj)).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } });
    expect(obj.metadata.managedFields).toHaveLength(1); // the request's own body is untouched
    expect(slimBody({ kind: 'List', items: [obj, 7] })).toEqual({
      kind: 'List',
      items: [{ kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: '1' } }, 7],
    });
    expect(slimBody([{ op: 'replace', path: '/metadata/managedFields', value: [] }])).toHaveLength(1);
    expect(slimBody(null)).toBeNull();
  });

  it('gives every record naming an approver the approvers list', () => {
    expect(slimRecord({ approver: 'alice', status: 'approved' })).toEqual({
      approver: 'alice',
      approvers: ['alice'],
      status: 'approved',
    });
    expect(slimRecord({ approvers: ['alice', 'bob'] })).toEqual({ approvers: ['alice', 'bob'] });
    expect(slimRecord({ status: 'pending' })).toEqual({ status: 'pending' });
  });
});
