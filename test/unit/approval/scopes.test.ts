import { describe, expect, it } from 'vitest';
import { countApprovals } from '../../../src/approval/count.js';
import { coverGroups, groupsOf, refuseOutOfScope } from '../../../src/approval/groups.js';
import { ApprovalError } from '../../../src/approval/token.js';
import type { StoredApproval } from '../../../src/state/store.js';
import type { ApproverJwks } from '../../../src/wire/approver-key.js';

const jwks: ApproverJwks = {
  keys: [
    { kty: 'OKP', kid: 'alice-1', name: 'alice', groups: ['sre'] },
    { kty: 'OKP', kid: 'bob-1', name: 'bob', groups: ['payments-oncall', 'security'] },
    { kty: 'OKP', kid: 'carol-1', name: 'carol', groups: ['sre', 'security'] },
    { kty: 'OKP', kid: 'carol-2', name: 'carol', groups: ['payments-oncall'] },
    { kty: 'OKP', kid: 'dave-1', name: 'dave' },
  ],
};
const of = (a: string) => groupsOf(jwks, a);

function approval(approver: string, override = false): StoredApproval {
  return {
    jti: `j-${approver}`,
    fingerprint: 'fp',
    approver,
    kid: `${approver}-1`,
    override,
    reason: '',
    exp: 0,
  };
}

const opts = { allowCritical: false, requester: 'agent', resourceVersion: undefined, groupsOf: of };

describe('approver groups', () => {
  it('come from every key of that name in the approvers file', () => {
    expect([...of('carol')].sort()).toEqual(['payments-oncall', 'security', 'sre']);
    expect(of('dave').size).toBe(0);
    expect(of('mallory').size).toBe(0);
  });

  it('cover each group with a different approver (one person cannot fill two groups)', () => {
    expect(coverGroups(['carol'], ['sre', 'security'], of).missing).toEqual(['security']);
    const both = coverGroups(['carol', 'alice'], ['sre', 'security'], of);
    expect(both.missing).toEqual([]);
    // alice can only be sre, so carol must take security: the matching reassigns
    expect(both.byGroup.get('sre')).toBe('alice');
    expect(both.byGroup.get('security')).toBe('carol');
  });

  it('refuse an approver in none of the groups the request names, naming their groups', () => {
    expect(() => refuseOutOfScope(jwks, 'alice', ['payments-oncall'], 'req-1')).toThrow(
      /alice may not approve req-1: it needs approvers from payments-oncall, and kubegate's approvers file puts alice in sre/,
    );
    expect(() => refuseOutOfScope(jwks, 'dave', ['sre'])).toThrow(/in no group/);
    expect(() => refuseOutOfScope(jwks, 'bob', ['payments-oncall'])).not.toThrow();
    expect(() => refuseOutOfScope(jwks, 'dave', [])).not.toThrow();
    const err = (() => {
      try {
        refuseOutOfScope(jwks, 'alice', ['security']);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApprovalError);
    expect((err as ApprovalError).code).toBe('out-of-scope');
  });
});

describe('counting approvals with approver groups', () => {
  const payments = { approvals: 1, override_required: false, approvals_from: ['payments-oncall'] };
  const critical = { approvals: 2, override_required: true, approvals_from: ['security', 'sre'] };

  it('a scoped change needs an approver from the group, not just anyone', () => {
    const v = countApprovals([approval('dave')], payments, opts);
    expect(v).toEqual({ ok: false, why: 'needs an approver from group payments-oncall (have dave)' });
    const ok = countApprovals([approval('dave'), approval('bob')], payments, opts);
    expect(ok.ok && ok.use.map((a) => a.approver)).toEqual(['bob']);
  });

  it('CRITICAL with an AND of groups needs one from each, from different people', () => {
    const one = countApprovals([approval('alice', true)], critical, opts);
    expect(one).toEqual({ ok: false, why: 'needs an approver from group security (have alice)' });
    const same = countApprovals([approval('carol', true)], critical, opts);
    expect(same.ok).toBe(false);
    const two = countApprovals([approval('alice', true), approval('bob')], critical, opts);
    expect(two.ok && two.use.map((a) => a.approver).sort()).toEqual(['alice', 'bob']);
  });

  it('still needs the override, and says which groups', () => {
    const v = countApprovals([approval('alice'), approval('bob')], critical, opts);
    expect(v.ok).toBe(false);
    expect(!v.ok && v.why).toMatch(/override.*2 different approvers \(one from each group: security, sre\)/);
  });

  it('the requester covers no group, whatever their groups', () => {
    const v = countApprovals([approval('bob')], payments, { ...opts, requester: 'bob' });
    expect(v.ok).toBe(false);
  });

  it('without a groups lookup no group is covered (fail closed)', () => {
    const { groupsOf: _g, ...noLookup } = opts;
    expect(countApprovals([approval('bob')], payments, noLookup).ok).toBe(false);
  });

  it('needs at least as many approvers as groups', () => {
    const three = {
      approvals: 1,
      override_required: false,
      approvals_from: ['payments-oncall', 'security', 'sre'],
    };
    expect(countApprovals([approval('bob'), approval('carol')], three, opts).ok).toBe(false);
    const v = countApprovals([approval('bob'), approval('carol'), approval('alice')], three, opts);
    expect(v.ok && v.use.length).toBe(3);
  });
});
