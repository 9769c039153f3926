import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import { describe, expect, it } from 'vitest';
import { makeEvaluator } from '../../src/policy/wasm-eval.js';

// The real bundle compiled by `opa build -t wasm` (scripts/policy-build.sh runs before the unit tests).
const bundle = path.resolve('dist/policy');
const ENTRYPOINT = 'kubegate/decision';

async function load() {
  const policy = await loadPolicy(readFileSync(path.join(bundle, 'policy.wasm')));
  policy.setData(JSON.parse(readFileSync(path.join(bundle, 'data.json'), 'utf8')));
  return policy;
}

const request = (over: object) => ({
  request: {
    verb: 'create',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    subresource: '',
    namespace: 'team-a',
    name: '',
    dryRun: false,
    path: '/api/v1/namespaces/team-a/configmaps',
    query: {},
    contentType: 'application/json',
    resourceRequest: true,
    impersonate: { user: null, uid: null, groups: [], extra: {} },
    ...over,
  },
  user: { username: 'dev', uid: '', groups: [], extra: {} },
  cluster: { name: 'kubegate', labels: {} },
  oldObject: null,
  config: {},
});

/** A result or the error thrown, so that both paths can be compared on failures too. */
function outcome(f: () => unknown): unknown {
  try {
    return { result: f() };
  } catch (err) {
    return { error: String((err as Error)?.message ?? err) };
  }
}

describe('policy evaluation straight into wasm memory', () => {
  it('answers exactly as opa-wasm evaluate, input after input', async () => {
    const reference = await load();
    const evaluate = makeEvaluator(await load(), ENTRYPOINT);
    const inputs: unknown[] = [
      { ...request({ verb: 'list', resource: 'pods' }), object: null },
      { ...request({ namespace: 'production', name: 'grüße' }), object: { metadata: { name: 'ünï 🚀' } } },
      { ...request({}), object: { data: { k: 'a\u2028b\u0000c\n"\\' } } },
      // a lone surrogate: JSON.stringify escapes it, which the wasm JSON parser refuses (both paths)
      { ...request({ name: '\ud800x' }), object: null },
      { ...request({ verb: 'delete', resource: 'secrets', name: 's' }), object: null },
      { ...request({ verb: 'patch', group: 'apps', resource: 'deployments', name: 'api' }), object: [] },
      {},
      null,
      undefined,
    ];
    for (let round = 0; round < 3; round++) {
      for (const input of inputs) {
        expect(outcome(() => evaluate(input))).toEqual(outcome(() => reference.evaluate(input, ENTRYPOINT)));
      }
    }
  });

  it('grows the wasm memory for a large input and keeps deciding afterwards', async () => {
    const reference = await load();
    const policy = await load();
    const evaluate = makeEvaluator(policy, ENTRYPOINT);
    const before = policy.mem.buffer.byteLength;
    const data: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) data[`key-${i}`] = `välue-${'x'.repeat(1000)}-${i}`;
    const big = { ...request({}), object: { metadata: { name: 'big' }, data } };
    expect(evaluate(big)).toEqual(reference.evaluate(big, ENTRYPOINT));
    expect(policy.mem.buffer.byteLength).toBeGreaterThan(before);
    const small = { ...request({ verb: 'get', resource: 'pods', name: 'p' }), object: null };
    expect(evaluate(small)).toEqual(reference.evaluate(small, ENTRYPOINT));
  });

  it('refuses an unknown entrypoint', async () => {
    expect(() => makeEvaluator({ entrypoints: {} } as never, ENTRYPOINT)).toThrow(/not valid/);
  });
});
