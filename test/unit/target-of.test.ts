import { describe, expect, it } from 'vitest';
import { targetOf } from '../../src/chain/context.js';
import { type KubeRequest, parseRequest } from '../../src/kube/request.js';

const kr = (method: string, url: string): KubeRequest =>
  parseRequest({ method, url, headers: {}, rawHeaders: [] });

describe('targetOf', () => {
  it('names namespace, resource and object, leaving out the parts a request has not', () => {
    expect(targetOf(kr('GET', '/api/v1/namespaces/default/configmaps/small'))).toBe(
      'default/configmaps/small',
    );
    expect(targetOf(kr('GET', '/api/v1/namespaces/default/configmaps'))).toBe('default/configmaps');
    expect(targetOf(kr('GET', '/api/v1/nodes/n1'))).toBe('nodes/n1');
    expect(targetOf(kr('GET', '/api/v1/namespaces'))).toBe('namespaces');
    expect(targetOf(kr('GET', '/version'))).toBe('/version');
  });

  it("names a create's object from its body", () => {
    const create = kr('POST', '/api/v1/namespaces/default/configmaps');
    expect(targetOf(create, { metadata: { name: 'web' } })).toBe('default/configmaps/web');
    expect(targetOf(create, { metadata: { name: 7 } })).toBe('default/configmaps');
  });
});
