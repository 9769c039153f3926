import { beforeEach, describe, expect, it, vi } from 'vitest';

const reviews: Record<string, string | string[]>[] = [];
vi.mock('../../src/kube/client.js', () => ({
  // the upstream names whoever the credentials say: a token's own name, or the impersonated user
  kubeCall: async (_u: unknown, opts: { headers: Record<string, string> }) => {
    reviews.push(opts.headers);
    const username = opts.headers['impersonate-user'] ?? `token:${opts.headers.authorization}`;
    return { status: 201, body: { status: { userInfo: { username, groups: [] } } } };
  },
}));

const { Identifier } = await import('../../src/identify.js');
const { fakeUpstream } = await import('./fake-cluster.js');

describe('Identifier cache', () => {
  beforeEach(() => {
    reviews.length = 0;
  });

  it('reviews a token once while its entry lives, and a changed token again', async () => {
    const id = new Identifier(fakeUpstream(), 60_000);
    const a = await id.identify({ authorization: 'Bearer a' });
    expect(await id.identify({ authorization: 'Bearer a' })).toBe(a);
    expect(reviews).toHaveLength(1);
    expect((await id.identify({ authorization: 'Bearer b' })).username).toBe('token:Bearer b');
    expect(reviews).toHaveLength(2);
  });

  it('reviews a token once however its header is spelled (padding, scheme case)', async () => {
    const id = new Identifier(fakeUpstream(), 60_000);
    const a = await id.identify({ authorization: 'Bearer a' });
    expect(await id.identify({ authorization: 'Bearer a padding' })).toBe(a);
    expect(await id.identify({ authorization: 'bearer a' })).toBe(a);
    expect(reviews).toHaveLength(1);
    expect((await id.identify({ authorization: 'Bearer  a' })).username).toBe('token:Bearer  a');
    expect(reviews).toHaveLength(2);
  });

  it('keeps a long token by its hash, apart from any short token spelling that hash', async () => {
    const id = new Identifier(fakeUpstream(), 60_000);
    const long = `Bearer ${'x'.repeat(5000)}`;
    expect((await id.identify({ authorization: long })).username).toBe(`token:${long}`);
    expect((await id.identify({ authorization: long })).username).toBe(`token:${long}`);
    expect(reviews).toHaveLength(1);
    const { createHash } = await import('node:crypto');
    const spelled = createHash('sha256').update(long).digest('hex');
    expect((await id.identify({ authorization: spelled })).username).toBe(`token:${spelled}`);
    expect(reviews).toHaveLength(2);
  });

  it('keeps certificate and token callers apart, whatever a header value looks like', async () => {
    const id = new Identifier(fakeUpstream(), 60_000);
    const cert = { username: 'alice', sha256: 'ab12' };
    const creds = { authorization: 'Bearer kubegate', 'impersonate-user': 'alice' };
    expect((await id.identify(creds, cert)).username).toBe('alice');
    // a token that spells the certificate's cache key is reviewed as the token it is
    for (const forged of ['ab12', 'x509:ab12'])
      expect((await id.identify({ authorization: forged })).username).toBe(`token:${forged}`);
    // and kubegate's own token, cached for the certificate caller, is not that caller as a token
    expect((await id.identify({ authorization: 'Bearer kubegate' })).username).toBe('token:Bearer kubegate');
    expect(reviews).toHaveLength(4);
  });
});
