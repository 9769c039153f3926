// The can-i hint on SelfSubjectAccessReview creates: worked out once per question and policy version.
import { describe, expect, it } from 'vitest';
import { canIWarning } from '../../src/chain/can-i.js';
import { parseRequest } from '../../src/kube/request.js';
import type { Decision } from '../../src/policy/decision.js';
import type { PolicyEngine } from '../../src/policy/engine.js';
import type { PolicyInput } from '../../src/policy/input.js';

const kr = parseRequest({
  method: 'POST',
  url: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
  headers: { 'content-type': 'application/json' },
  rawHeaders: ['Content-Type', 'application/json'],
});
const review = (verb: string) => ({
  spec: { resourceAttributes: { verb, resource: 'pods', namespace: 'prod' } },
});
const agent = { username: 'agent', uid: '', groups: ['kubegate:agents'], extra: {} };

/** A policy that holds deletes and counts its evaluations; `version` and failures on demand. */
function fakePolicy() {
  const calls: PolicyInput[] = [];
  const p = {
    version: 'v1',
    fail: false,
    decide(input: PolicyInput): Decision {
      calls.push(input);
      if (p.fail) throw new Error('policy evaluation failed');
      const held = input.request.verb === 'delete';
      return {
        risk: held ? 'HIGH' : 'LOW',
        reasons: held ? ['delete'] : [],
        deny: [],
        approvals: held ? 1 : 0,
        approvals_from: [],
      } as unknown as Decision;
    },
  };
  return { p, calls, engine: p as unknown as PolicyEngine };
}

const staging = {
  name: 'staging',
  labels: { env: 'staging' },
  safety: { production_namespaces: ['prod'], block_production: true },
};

describe('can-i hint', () => {
  it('asks the policy once per question and policy version, with the same answer each time', () => {
    const { p, calls, engine } = fakePolicy();
    const first = canIWarning(kr, review('delete'), agent, engine, staging);
    expect(first).toMatch(/delete pods would be held for approval \(HIGH: delete; 1 approval\)/);
    expect(canIWarning(kr, review('delete'), agent, engine, staging)).toBe(first);
    expect(canIWarning(kr, review('get'), agent, engine, staging)).toBeUndefined();
    expect(canIWarning(kr, review('get'), agent, engine, staging)).toBeUndefined();
    expect(calls).toHaveLength(2);
    // another asker is another question
    canIWarning(kr, review('delete'), { ...agent, username: 'dev' }, engine, staging);
    expect(calls).toHaveLength(3);
    // the same question on another cluster is another question
    canIWarning(kr, review('delete'), agent, engine, {
      ...staging,
      name: 'prod',
      labels: { env: 'production' },
    });
    expect(calls).toHaveLength(4);
    // a new bundle decides afresh
    p.version = 'v2';
    canIWarning(kr, review('delete'), agent, engine, staging);
    expect(calls).toHaveLength(5);
  });

  it('remembers no failure: a policy error is thrown again next time', () => {
    const { p, calls, engine } = fakePolicy();
    p.fail = true;
    expect(() => canIWarning(kr, review('delete'), agent, engine, staging)).toThrow(
      /policy evaluation failed/,
    );
    p.fail = false;
    expect(canIWarning(kr, review('delete'), agent, engine, staging)).toMatch(/would be held/);
    expect(calls).toHaveLength(2);
  });
});
