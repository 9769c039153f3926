import { describe, expect, it } from 'vitest';
import { parseRequestRemembered } from '../../src/kube/parsed-requests.js';
import { parseRequest, type RawRequest } from '../../src/kube/request.js';

const raw = (url: string, more: Partial<RawRequest> = {}, rawHeaders: string[] = []): RawRequest => ({
  method: 'GET',
  url,
  headers: {},
  rawHeaders,
  upgrade: false,
  ...more,
});

describe('parseRequestRemembered: a repeated request described as parseRequest would', () => {
  const urls = [
    '/api/v1/namespaces/default/configmaps/a',
    '/api/v1/namespaces/default/configmaps/a',
    '/apis/apps/v1/namespaces/prod/deployments?watch=1&resourceVersion=5',
    '/apis/apps/v1/namespaces/prod/deployments?watch=1&resourceVersion=5',
    '/api/v1/nodes/n1/proxy/metrics',
    '/version',
  ];

  it('gives the same description, first time and again', () => {
    for (const url of urls) expect(parseRequestRemembered(raw(url))).toEqual(parseRequest(raw(url)));
  });

  it('reads the impersonation of each request, not of the first one', () => {
    const url = '/api/v1/namespaces/default/pods';
    expect(parseRequestRemembered(raw(url)).impersonate.user).toBeNull();
    const as = parseRequestRemembered(raw(url, {}, ['Impersonate-User', 'mallory']));
    expect(as.impersonate.user).toBe('mallory');
    expect(parseRequestRemembered(raw(url)).impersonate.user).toBeNull();
  });

  it('hands out copies with a frozen query, so no request changes another', () => {
    const url = '/api/v1/namespaces/default/pods?limit=5';
    const a = parseRequestRemembered(raw(url));
    a.verb = 'delete';
    expect(parseRequestRemembered(raw(url)).verb).toBe('list');
    expect(() => {
      a.query.limit!.push('6');
    }).toThrow(TypeError);
  });

  it('keeps content type and upgrade apart, and refuses a bad URL every time', () => {
    const url = '/api/v1/namespaces/default/pods';
    const yaml = parseRequestRemembered(raw(url, { headers: { 'content-type': 'application/yaml' } }));
    expect(yaml.contentType).toBe('application/yaml');
    expect(parseRequestRemembered(raw(url)).contentType).toBe('');
    const ws = parseRequestRemembered(raw(url, { upgrade: true }));
    expect(ws.upgrade).toBe(true);
    for (let i = 0; i < 2; i++) expect(() => parseRequestRemembered(raw('/api/v1/../secrets'))).toThrow();
  });

  it('describes a repeated change as parseRequest would, by method, and keeps each copy its own', () => {
    const url = '/api/v1/namespaces/default/configmaps/a?timeout=5s';
    const del = (more: Partial<RawRequest> = {}) =>
      raw(url, { method: 'DELETE', headers: { 'content-type': 'application/json' }, ...more });
    expect(parseRequestRemembered(del())).toEqual(parseRequest(del()));
    const first = parseRequestRemembered(del());
    expect(first.verb).toBe('delete');
    // what the body stage does to a change's description stays on that request
    first.dryRun = true;
    first.query = {};
    first.search = '';
    const again = parseRequestRemembered(del());
    expect(again).toEqual(parseRequest(del()));
    expect(again.dryRun).toBe(false);
    expect(again.search).toBe('?timeout=5s');
    expect(parseRequestRemembered(raw(url)).verb).toBe('get');
    const post = { method: 'POST', headers: { 'content-type': 'application/json' } };
    const ssar = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
    parseRequestRemembered(raw(ssar, post));
    expect(parseRequestRemembered(raw(ssar, post))).toEqual(parseRequest(raw(ssar, post)));
  });
});
