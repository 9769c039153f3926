// One-pass encoding: the bytes hashed and written equal the old pipeline's
// (JSON round trip, then redact, then RFC 8785), for every kind of value a record may carry.
import canonicalizeModule from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { encodeFields, encodePlain } from '../../../src/audit/encode.js';
import { REDACTED, redact, rememberedKeyVerdicts, targetsSecrets } from '../../../src/audit/redact.js';
import { rememberedHeads } from '../../../src/wire/canonical.js';

type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/** What the log used to do: plain JSON, then redact, then canonical JSON of each field. */
function oldPipeline(input: Record<string, unknown>): Array<[string, string]> {
  const plain = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  const secrets = targetsSecrets(input.resource as string, input.action as string);
  const red = redact(plain, secrets ? 'secrets' : undefined);
  return Object.entries(red).map(([k, v]) => [k, canonicalize(v) as string]);
}

const newPipeline = (input: Record<string, unknown>) =>
  encodeFields(input, targetsSecrets(input.resource as string, input.action as string)).map(([k, v]) => [
    k,
    v,
  ]);

const B64 = Buffer.from('hunter2').toString('base64');
const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'db',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': `{"data":{"password":"${B64}"}}` },
  },
  data: { password: B64, gone: undefined },
  stringData: { extra: 'plain' },
};

const CASES: Record<string, Record<string, unknown>> = {
  'a LOW change with its facts': {
    request_id: 'req-1',
    action: 'create authorization.k8s.io/v1 selfsubjectaccessreviews',
    resource: 'selfsubjectaccessreviews',
    user: 'agent',
    risk: 'LOW',
    reasons: ['read-only review'],
    policy_input: {
      request: { verb: 'create', query: { pretty: ['true'] }, impersonate: { user: null, groups: [] } },
      user: { username: 'agent', groups: ['a', 'system:authenticated'], extra: {} },
      config: { production_namespaces: ['prod'], block_production: true },
    },
    event: 'forwarded',
    status: 'pending',
    body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { n: 1.5e-7 } },
  },
  'a Secret body and a secrets resource': {
    event: 'forwarded',
    resource: 'default/secrets/db',
    action: 'update v1 secrets',
    body: secret,
    patch: '{"data":{"password":"x"}}',
    object: 'apiVersion: v1\nkind: Secret',
  },
  'a SecretList and credentials anywhere': {
    event: 'executed',
    body: { kind: 'SecretList', items: [{ data: { a: 'b' } }, null, 3] },
    headers: { Authorization: 'Bearer abc', 'X-Auth-Token': 't', secretName: 'keep' },
    message: 'bearer xyz',
    token: 'top-level',
  },
  'JSON patches': {
    event: 'held',
    resource: 'default/secrets/db',
    body: [
      { op: 'replace', path: '/data/password', value: 'x' },
      { op: 'add', path: '/metadata/annotations/token', value: 'y' },
      { op: 'remove', path: '/spec' },
      { op: 'add', path: '/data', value: { k: 'v' } },
    ],
    other: [{ op: 'add', path: '/spec/template', value: { password: 's', n: 1 } }],
  },
  'JSON semantics: toJSON, undefined, functions, NaN, boxed values, unicode keys': {
    event: 'received',
    when: new Date(0),
    gone: undefined,
    fn: () => 1,
    list: [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21],
    boxed: [new String('s'), new Number(2), new Boolean(false)],
    keys: { b: 1, a: 2, é: 3, '\u{1F600}': 4, A: 5, '': 6, '10': 7, '9': 8 },
    text: 'line\nbreak "quoted" \u2028 \ud800',
  },
};

describe('encodeFields', () => {
  for (const [name, input] of Object.entries(CASES)) {
    it(`matches the JSON round trip + redact + canonicalize pipeline: ${name}`, () => {
      expect(newPipeline(input)).toEqual(oldPipeline(input));
    });
  }

  it('redacts what redact() redacts (spot check on the encoded text)', () => {
    const json = Object.fromEntries(newPipeline(CASES['a Secret body and a secrets resource']!));
    expect(json.body).toContain(`"password":"${REDACTED}"`);
    expect(json.body).not.toContain(B64);
    expect(json.object).toBe(JSON.stringify(REDACTED));
  });

  it('refuses what JSON cannot hold: BigInt and cycles', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => encodeFields({ event: 'x', n: 1n }, false)).toThrow(TypeError);
    expect(() => encodeFields({ event: 'x', cyclic }, false)).toThrow(/circular/);
    // the same object twice side by side is not a cycle
    const shared = { a: 1 };
    expect(encodeFields({ event: 'x', pair: [shared, shared] }, false)[1]![1]).toBe('[{"a":1},{"a":1}]');
  });

  it('encodePlain does not redact (checkpoints are kubegate’s own fields)', () => {
    expect(encodePlain({ token: 'kept', b: 2, a: 1 })).toBe('{"a":1,"b":2,"token":"kept"}');
  });

  it('remembers short keys only: long distinct keys in bodies cannot grow memory', () => {
    const heads = rememberedHeads();
    const verdicts = rememberedKeyVerdicts();
    const long = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${'k'.repeat(200)}${i}`, 'v']));
    encodeFields({ event: 'x', body: long }, false);
    expect(rememberedHeads()).toBe(heads);
    expect(rememberedKeyVerdicts()).toBe(verdicts);
    encodeFields({ event: 'x', body: { shortKeyNeverSeenBefore: 'v' } }, false);
    expect(rememberedHeads()).toBe(heads + 1);
    expect(rememberedKeyVerdicts()).toBe(verdicts + 1);
  });
});
