import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../src/kube/request.js';
import { StatusError } from '../../src/kube/status.js';

const req = (method: string, url: string, headers: Record<string, string> = {}) =>
  parseRequest({
    method,
    url,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawHeaders: Object.entries(headers).flat(),
  });

describe('parseRequest: one description of each request, like the apiserver RequestInfoFactory', () => {
  it('core group, namespaced, named', () => {
    expect(req('GET', '/api/v1/namespaces/default/pods/web')).toMatchObject({
      verb: 'get',
      resourceRequest: true,
      group: '',
      version: 'v1',
      resource: 'pods',
      namespace: 'default',
      name: 'web',
      subresource: '',
      mutating: false,
    });
  });

  it('named group, collection, list vs watch', () => {
    expect(req('GET', '/apis/apps/v1/namespaces/prod/deployments')).toMatchObject({
      verb: 'list',
      group: 'apps',
      resource: 'deployments',
      namespace: 'prod',
      name: '',
    });
    expect(req('GET', '/apis/apps/v1/namespaces/prod/deployments?watch=true')).toMatchObject({
      verb: 'watch',
    });
    expect(req('GET', '/api/v1/watch/namespaces/a/configmaps')).toMatchObject({
      verb: 'watch',
      resource: 'configmaps',
      namespace: 'a',
    });
    expect(req('GET', '/api/v1/pods?watch=false')).toMatchObject({ verb: 'list' });
  });

  it('cluster-scoped resources, including the Namespace object itself', () => {
    expect(req('DELETE', '/api/v1/namespaces/team-a')).toMatchObject({
      verb: 'delete',
      resource: 'namespaces',
      name: 'team-a',
      namespace: '',
    });
    expect(req('PUT', '/api/v1/namespaces/team-a/finalize')).toMatchObject({
      verb: 'update',
      resource: 'namespaces',
      name: 'team-a',
      subresource: 'finalize',
    });
    expect(req('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings')).toMatchObject({
      verb: 'create',
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterrolebindings',
      mutating: true,
    });
    expect(req('GET', '/api/v1/nodes/n1')).toMatchObject({
      verb: 'get',
      resource: 'nodes',
      name: 'n1',
      namespace: '',
    });
  });

  it('subresources, patches, deletecollection and dry-run', () => {
    expect(
      req('PATCH', '/apis/apps/v1/namespaces/d/deployments/api/scale?fieldManager=kubectl-scale', {
        'Content-Type': 'application/merge-patch+json',
      }),
    ).toMatchObject({
      verb: 'patch',
      subresource: 'scale',
      contentType: 'application/merge-patch+json',
      query: { fieldManager: ['kubectl-scale'] },
      dryRun: false,
    });
    expect(req('DELETE', '/api/v1/namespaces/d/pods')).toMatchObject({ verb: 'deletecollection' });
    expect(req('POST', '/api/v1/namespaces/d/pods/p/eviction')).toMatchObject({
      verb: 'create',
      subresource: 'eviction',
    });
    expect(req('POST', '/api/v1/namespaces/d/configmaps?dryRun=All')).toMatchObject({
      dryRun: true,
      verb: 'create',
    });
  });

  it('exec, attach, port-forward and proxy are connect, whatever the method', () => {
    for (const [m, sub] of [
      ['POST', 'exec'],
      ['GET', 'exec'],
      ['POST', 'attach'],
      ['GET', 'portforward'],
    ] as const) {
      expect(req(m, `/api/v1/namespaces/d/pods/p/${sub}?command=sh`)).toMatchObject({
        verb: 'connect',
        subresource: sub,
        mutating: true,
      });
    }
    expect(req('GET', '/api/v1/namespaces/d/services/s:80/proxy/metrics/x')).toMatchObject({
      verb: 'connect',
      resource: 'services',
      name: 's:80',
      subresource: 'proxy',
      mutating: true,
    });
  });

  it('non-resource URLs and discovery', () => {
    expect(req('GET', '/version')).toMatchObject({ resourceRequest: false, verb: 'get', path: '/version' });
    expect(req('GET', '/apis')).toMatchObject({ resourceRequest: false });
    expect(req('GET', '/apis/apps')).toMatchObject({ resourceRequest: false, group: 'apps' });
    expect(req('GET', '/apis/apps/v1')).toMatchObject({
      resourceRequest: false,
      group: 'apps',
      version: 'v1',
    });
    expect(req('GET', '/api')).toMatchObject({ resourceRequest: false });
    expect(req('POST', '/logs/x')).toMatchObject({ resourceRequest: false, verb: 'post', mutating: true });
  });

  it('reads every Impersonate-* header, any case, repeated', () => {
    const kr = parseRequest({
      method: 'GET',
      url: '/api/v1/pods',
      headers: {},
      rawHeaders: [
        'impersonate-USER',
        'root',
        'Impersonate-Group',
        'system:masters',
        'IMPERSONATE-GROUP',
        'x',
        'Impersonate-Extra-Scopes',
        'a',
      ],
    });
    expect(kr.impersonate).toEqual({
      user: 'root',
      uid: null,
      groups: ['system:masters', 'x'],
      extra: { 'extra-scopes': ['a'] },
    });
  });

  it('forwards one canonical path and query', () => {
    const kr = req('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=500');
    expect(kr.path).toBe('/api/v1/namespaces/default/pods');
    expect(kr.search).toBe('?labelSelector=app%3Dweb&limit=500');
    expect(req('GET', '/api/v1/namespaces/d/pods/%70').path).toBe('/api/v1/namespaces/d/pods/p');
  });

  const refusals: [string, string][] = [
    ['GET', '/api/v1/namespaces/default/../kube-system/pods'],
    ['GET', '/api/v1/namespaces/default/./pods'],
    ['GET', '/api//v1/pods'],
    ['GET', '/api/v1/namespaces/default%2fpods'],
    ['GET', '/api/v1/namespaces/default%252fpods'],
    ['GET', '/api/v1/namespaces/%2e%2e/pods'],
    ['GET', '/api/v1/namespaces/d/Pods'],
    ['GET', '/apis/Apps/v1/deployments'],
    ['DELETE', '/api/v1/namespaces/d/pods./p'],
    ['GET', '/api/v1/namespaces/d/pods/p%00'],
    ['POST', '/api/v1/namespaces/d/pods?dryRun=All&dryRun='],
    ['POST', '/api/v1/namespaces/d/pods?dryRun=all'],
    ['GET', '/api/v1/pods?watch=yes'],
    ['GET', '/api/v1/proxy/namespaces/d/pods/p'],
    ['GET', '/api/v1/namespaces/d/pods/p/status/extra'],
    ['TRACE', '/api/v1/pods'],
    ['GET', 'api/v1/pods'],
  ];
  it.each(refusals)('refuses %s %s with a 4xx Status', (method, url) => {
    let err: unknown;
    try {
      req(method, url);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    const s = (err as StatusError).toStatus();
    expect(s).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure' });
    expect(s.code).toBeGreaterThanOrEqual(400);
    expect(s.code).toBeLessThan(500);
  });
});

describe('upgrades', () => {
  it('only exec/attach/port-forward/proxy (and reads) may upgrade: a body behind an upgrade is never seen by the policy', () => {
    const up = { Connection: 'Upgrade', Upgrade: 'websocket' };
    expect(req('GET', '/api/v1/namespaces/d/pods/p/exec?command=sh', up)).toMatchObject({
      verb: 'connect',
      upgrade: true,
    });
    expect(req('GET', '/api/v1/namespaces/d/pods?watch=1', up)).toMatchObject({
      verb: 'watch',
      upgrade: true,
    });
    for (const [m, u] of [
      ['POST', '/api/v1/namespaces/d/configmaps'],
      ['PATCH', '/apis/apps/v1/namespaces/d/deployments/x'],
      ['POST', '/api/v1'],
      ['POST', '/logs'],
    ]) {
      expect(() => req(m!, u!, up), `${m} ${u}`).toThrow(StatusError);
    }
  });
});

describe('list parameters keep every value, in order', () => {
  it("exec's command words and port-forward's ports", () => {
    const exec = req(
      'POST',
      '/api/v1/namespaces/d/pods/p/exec?command=echo&command=echo&command=hi&stdout=true',
    );
    expect(exec.query.command).toEqual(['echo', 'echo', 'hi']);
    expect(exec.search).toBe('?command=echo&command=echo&command=hi&stdout=true');
    const pf = req('POST', '/api/v1/namespaces/d/pods/p/portforward?ports=80&ports=443');
    expect(pf.query.ports).toEqual(['80', '443']);
  });
});
