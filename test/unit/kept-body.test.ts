import { describe, expect, it } from 'vitest';
import { bodyOfKept, keepBody } from '../../src/chain/body.js';
import type { RequestBody } from '../../src/chain/context.js';
import { parseRequest } from '../../src/kube/request.js';

const request = (method: string, url: string, contentType: string) =>
  parseRequest({
    method,
    url,
    headers: { 'content-type': contentType },
    rawHeaders: ['content-type', contentType],
  });

const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } };

describe('a parked request keeps its body as bytes where they read back into it', () => {
  it('keeps only the bytes of a JSON body sent as is, and reads the same body back from them', () => {
    const kr = request('POST', '/api/v1/namespaces/ns/configmaps', 'application/json');
    const forward = Buffer.from(JSON.stringify(cm));
    const kept = keepBody(kr, { object: cm, forward, fingerprintBody: cm });
    expect(kept).toEqual({ forward });
    const again = bodyOfKept(kr, kept);
    expect(again.forward).toBe(forward);
    expect(again.object).toEqual(cm);
    expect(again.fingerprintBody).toEqual(cm);
  });

  it('keeps a JSON patch as bytes too', () => {
    const kr = request('PATCH', '/api/v1/namespaces/ns/configmaps/a', 'application/json-patch+json');
    const ops = [{ op: 'replace', path: '/data/k', value: 'w' }];
    const forward = Buffer.from(JSON.stringify(ops));
    const again = bodyOfKept(kr, keepBody(kr, { object: ops, forward, fingerprintBody: ops }));
    expect(again.object).toEqual(ops);
  });

  it('keeps the whole body where the bytes sent are not the bytes read', () => {
    const del = request('DELETE', '/api/v1/namespaces/ns/configmaps/a', 'application/json');
    const options = { kind: 'DeleteOptions', dryRun: ['All'] };
    const delBody: RequestBody = {
      object: options,
      forward: Buffer.from(JSON.stringify(options)),
      fingerprintBody: { kind: 'DeleteOptions' },
    };
    expect(keepBody(del, delBody)).toBe(delBody);

    const yaml = request('POST', '/api/v1/namespaces/ns/configmaps', 'application/yaml');
    const yamlBody: RequestBody = {
      object: cm,
      forward: Buffer.from(JSON.stringify(cm)),
      contentType: 'application/json',
      fingerprintBody: cm,
    };
    expect(keepBody(yaml, yamlBody)).toBe(yamlBody);

    const proto = request('POST', '/api/v1/namespaces/ns/configmaps', 'application/json');
    const decoded: RequestBody = { object: cm, forward: Buffer.from('x'), fingerprintBody: {}, decoded: cm };
    expect(keepBody(proto, decoded)).toBe(decoded);
  });
});
