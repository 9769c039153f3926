// Decisions on changes are remembered by their exact input and policy version, never longer.
import { describe, expect, it } from 'vitest';
import { ChangeDecisions } from '../../src/chain/change-decisions.js';
import type { Decision } from '../../src/policy/decision.js';
import type { PolicyEngine } from '../../src/policy/engine.js';
import type { PolicyInput } from '../../src/policy/input.js';

/** A policy that counts its evaluations and decides by the input's verb. */
function fakePolicy() {
  const seen: string[] = [];
  const engine = {
    version: 'v1',
    decideJson(text: string): Decision {
      seen.push(text);
      const input = JSON.parse(text) as PolicyInput;
      return {
        risk: input.request.verb === 'delete' ? 'HIGH' : 'LOW',
        reasons: [`${input.request.verb} by ${input.user.username}`],
        approvals: 0,
        override_required: false,
        dry_run_first: false,
        deny: [],
        approvals_from: [],
        audit_findings: [],
        policy: engine.version,
      };
    },
  };
  return { engine, policy: engine as unknown as PolicyEngine, seen };
}

function inputOf(verb: string, username = 'agent', object: unknown = null): PolicyInput {
  return {
    request: {
      verb,
      group: 'authorization.k8s.io',
      version: 'v1',
      resource: 'selfsubjectaccessreviews',
      subresource: '',
      namespace: '',
      name: '',
      dryRun: false,
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      query: {},
      contentType: 'application/json',
      resourceRequest: true,
      impersonate: { user: null, uid: null, groups: [], extra: {} },
    },
    user: { username, uid: '', groups: ['system:authenticated'], extra: {} },
    cluster: { name: 'kubegate', labels: {} },
    object,
    oldObject: null,
    config: {},
  };
}

describe('ChangeDecisions', () => {
  it('evaluates an input once and hands the same frozen decision to every request with that input', () => {
    const { policy, seen } = fakePolicy();
    const memo = new ChangeDecisions();
    const a = memo.decide(policy, inputOf('create'));
    const b = memo.decide(policy, inputOf('create'));
    expect(seen).toHaveLength(1);
    expect(b).toBe(a);
    expect(Object.isFrozen(a.reasons)).toBe(true);
    expect(() => (a.reasons as string[]).push('x')).toThrow(TypeError);
  });

  it('anything the policy sees that differs is decided afresh: caller, verb, body', () => {
    const { policy, seen } = fakePolicy();
    const memo = new ChangeDecisions();
    memo.decide(policy, inputOf('create'));
    expect(memo.decide(policy, inputOf('create', 'mallory')).reasons).toEqual(['create by mallory']);
    expect(memo.decide(policy, inputOf('delete')).risk).toBe('HIGH');
    memo.decide(policy, inputOf('create', 'agent', { spec: { a: 1 } }));
    expect(seen).toHaveLength(4);
  });

  it('a new policy version decides again, and its decision names that version', () => {
    const { engine, policy, seen } = fakePolicy();
    const memo = new ChangeDecisions();
    expect(memo.decide(policy, inputOf('create')).policy).toBe('v1');
    engine.version = 'v2';
    expect(memo.decide(policy, inputOf('create')).policy).toBe('v2');
    expect(memo.decide(policy, inputOf('create')).policy).toBe('v2');
    expect(seen).toHaveLength(2);
  });

  it('a large input is decided every time (not kept)', () => {
    const { policy, seen } = fakePolicy();
    const memo = new ChangeDecisions();
    const big = inputOf('create', 'agent', { data: 'x'.repeat(10_000) });
    memo.decide(policy, big);
    memo.decide(policy, big);
    expect(seen).toHaveLength(2);
  });

  it('what the policy reads is exactly the input serialised', () => {
    const { policy, seen } = fakePolicy();
    const input = inputOf('create', 'agent', { kind: 'ConfigMap', data: { k: 'é' } });
    new ChangeDecisions().decide(policy, input);
    expect(seen[0]).toBe(JSON.stringify(input));
  });
});
