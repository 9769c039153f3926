import { describe, expect, it } from 'vitest';
import { honoursDryRun } from '../../src/wire/verbs.js';

describe('honoursDryRun: the one rule for where a dry run is trusted', () => {
  it('trusts resource writes and their status/scale, nothing that may act anyway', () => {
    expect(honoursDryRun({ resource: 'configmaps', subresource: '', verb: 'create' })).toBe(true);
    expect(honoursDryRun({ resource: 'deployments', subresource: 'scale', verb: 'patch' })).toBe(true);
    expect(honoursDryRun({ resource: 'pods', subresource: 'status', verb: 'update' })).toBe(true);
    expect(honoursDryRun({ resource: 'serviceaccounts', subresource: 'token', verb: 'create' })).toBe(false);
    expect(honoursDryRun({ resource: 'pods', subresource: 'exec', verb: 'connect' })).toBe(false);
    expect(honoursDryRun({ resource: 'pods', subresource: 'eviction', verb: 'create' })).toBe(false);
    expect(honoursDryRun({ resource: '', subresource: '', verb: 'post' })).toBe(false);
  });
});
