import { describe, expect, it } from 'vitest';
import { verifyFingerprint } from '../../src/approvecli/verify.js';
import { pendingDetail } from '../../src/state/store.js';
import { type FingerprintParts, fingerprint } from '../../src/wire/fingerprint.js';

const parts: FingerprintParts = {
  cluster: 'kubegate',
  verb: 'patch',
  group: '',
  version: 'v1',
  resource: 'configmaps',
  subresource: '',
  namespace: 'default',
  name: 'c',
  query: { fieldManager: ['kubectl'] },
  contentType: 'application/merge-patch+json',
  path: '/api/v1/namespaces/default/configmaps/c',
  user: 'alice',
  body: { data: { a: '1' } },
};
const none = { user: null, uid: null, groups: [], extra: {} };
const decision = { override_required: true, approvals: 2, dry_run_first: true, policy: 'p' };

describe('fingerprint: what an approval is bound to', () => {
  it('is stable across releases: approvals signed before an upgrade still match (pinned value)', () => {
    const scale: FingerprintParts = {
      cluster: 'c',
      verb: 'patch',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      subresource: 'scale',
      namespace: 'ns',
      name: 'web',
      query: { fieldManager: ['kubectl'], dryRun: ['All'] },
      contentType: 'application/merge-patch+json',
      path: '/apis/apps/v1/namespaces/ns/deployments/web/scale',
      user: 'agent',
      body: { spec: { replicas: 3 }, é: [1.5, -0, 1e21] },
    };
    // a change to how fingerprints are computed would orphan every approval already signed
    expect(fingerprint(scale)).toBe(
      'sha256:97a0242781a7db2522676a59cb69ad051314e2c7f31def7fdae1d8160951464c',
    );
    expect(() => fingerprint({ ...scale, body: { n: Number.NaN } })).toThrow();
  });

  it('ignores dryRun and the order of query values, nothing else', () => {
    const fp = fingerprint(parts);
    expect(fingerprint({ ...parts, query: { ...parts.query, dryRun: ['All'] } })).toBe(fp);
    expect(fingerprint({ ...parts, impersonate: none })).toBe(fp);
    expect(fingerprint({ ...parts, body: { data: { a: '2' } } })).not.toBe(fp);
  });

  it('binds Impersonate-* headers: the same change "as admin" is another request', () => {
    const asAdmin = { ...none, user: 'admin' };
    expect(fingerprint({ ...parts, impersonate: asAdmin })).not.toBe(fingerprint(parts));
    expect(fingerprint({ ...parts, impersonate: { ...none, groups: ['system:masters'] } })).not.toBe(
      fingerprint(parts),
    );
  });

  it('keeps the order of list parameters (exec `rm x` is not `x rm`)', () => {
    const exec = { ...parts, verb: 'connect', subresource: 'exec', query: { command: ['rm', 'x'] } };
    expect(fingerprint(exec)).not.toBe(fingerprint({ ...exec, query: { command: ['x', 'rm'] } }));
  });

  it('drops dryRun only where the apiserver honours it: an unhonoured "dry run" approves nothing real', () => {
    const honoured = { ...parts, query: { dryRun: ['All'] } };
    expect(fingerprint(honoured)).toBe(fingerprint({ ...parts, query: {} }));
    const ephemeral = { ...parts, resource: 'pods', subresource: 'ephemeralcontainers' };
    expect(fingerprint({ ...ephemeral, query: { dryRun: ['All'] } })).not.toBe(
      fingerprint({ ...ephemeral, query: {} }),
    );
  });

  it('binds the method of proxy requests only', () => {
    expect(fingerprint({ ...parts, proxyMethod: 'DELETE' })).not.toBe(
      fingerprint({ ...parts, proxyMethod: 'GET' }),
    );
  });

  it('approve-cli recomputes the same fingerprint from what kubegate shows, impersonation and method included', () => {
    const kr = {
      ...parts,
      subresource: 'proxy',
      method: 'DELETE',
      impersonate: { ...none, user: 'admin', groups: ['system:masters'] },
    };
    const fp = fingerprint({ ...kr, proxyMethod: 'DELETE' });
    const detail = pendingDetail(kr, kr.body, null, decision);
    expect(detail.proxyMethod).toBe('DELETE');
    expect(detail.impersonate?.user).toBe('admin');
    const view = { id: 'req-1', fingerprint: fp, requester: 'alice', detail };
    expect(verifyFingerprint(view as Parameters<typeof verifyFingerprint>[0])).toBe(fp);
    // had kubegate left impersonation out of what it shows, approve-cli would refuse to sign
    const { impersonate: _i, ...hidden } = detail;
    expect(() =>
      verifyFingerprint({ ...view, detail: hidden } as Parameters<typeof verifyFingerprint>[0]),
    ).toThrow();
    // nor may it show the request as one for another cluster
    expect(() =>
      verifyFingerprint({ ...view, detail: { ...detail, cluster: 'prod' } } as Parameters<
        typeof verifyFingerprint
      >[0]),
    ).toThrow();
  });

  it('binds the cluster: the same request on another cluster is another request', () => {
    const onStaging = fingerprint({ ...parts, cluster: 'staging' });
    const onProd = fingerprint({ ...parts, cluster: 'prod' });
    expect(onStaging).not.toBe(onProd);
    expect(onStaging).not.toBe(fingerprint(parts));
    // and what identifies a request otherwise still does on each cluster
    expect(fingerprint({ ...parts, cluster: 'prod', query: { ...parts.query, dryRun: ['All'] } })).toBe(
      onProd,
    );
  });
});

describe('what the apiserver stores, not how it answers', () => {
  const base = {
    cluster: 'kubegate',
    verb: 'patch',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    subresource: 'scale',
    namespace: 'default',
    name: 'web',
    path: '/apis/apps/v1/namespaces/default/deployments/web/scale',
    contentType: 'application/merge-patch+json',
    user: 'agent',
    body: { spec: { replicas: 3 } },
  };
  it('a write with another --request-timeout or pretty is the same request', () => {
    const plain = fingerprint({ ...base, query: {} });
    expect(fingerprint({ ...base, query: { timeout: ['30s'] } })).toBe(plain);
    expect(fingerprint({ ...base, query: { pretty: ['true'], timeout: ['5m'] } })).toBe(plain);
    expect(fingerprint({ ...base, query: { fieldManager: ['x'] } })).not.toBe(plain);
  });
  it('a proxied request keeps them: the backend may read them', () => {
    const proxy = { ...base, verb: 'connect', subresource: 'proxy', proxyMethod: 'GET', body: null };
    expect(fingerprint({ ...proxy, query: { timeout: ['1s'] } })).not.toBe(
      fingerprint({ ...proxy, query: {} }),
    );
  });
});
