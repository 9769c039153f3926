// When an approval was signed relative to the last withdrawal of its request's approvals.
import { describe, expect, it } from 'vitest';
import { ApprovalError, type VerifiedApproval, verifyApproval } from '../../../src/approval/token.js';
import { signedBeforeWithdrawal } from '../../../src/approval/withdrawals.js';
import { signApproval } from '../../../src/wire/approval-token.js';
import { generateApproverKey } from '../../../src/wire/approver-key.js';

const FP = 'sha256:aa';
const T = 1_764_000_000_000;
const approval = (over: Partial<VerifiedApproval>): VerifiedApproval => ({
  action: 'approve',
  fingerprints: [FP],
  approver: 'alice',
  kid: 'k',
  jti: 'j',
  iat: Math.floor(T / 1000),
  exp: Math.floor(T / 1000) + 60,
  token: 't',
  audience: ['c1'],
  ...over,
});

describe('signedBeforeWithdrawal', () => {
  it('a token naming the last withdrawal counts whatever its clock; naming another, never', () => {
    expect(signedBeforeWithdrawal(approval({ withdrawals: [T], signedAt: T - 60_000 }), FP, T)).toBe(false);
    expect(signedBeforeWithdrawal(approval({ withdrawals: [0], signedAt: T + 25_000 }), FP, T)).toBe(true);
    expect(signedBeforeWithdrawal(approval({ withdrawals: [T], signedAt: T }), FP, T + 1)).toBe(true);
  });

  it('a token without it must be signed a clock tolerance (and slack) after the withdrawal; none withdrawn, any', () => {
    expect(signedBeforeWithdrawal(approval({ signedAt: T + 31_000 }), FP, T)).toBe(true);
    expect(signedBeforeWithdrawal(approval({ signedAt: T + 33_000 }), FP, T)).toBe(false);
    expect(signedBeforeWithdrawal(approval({ signedAt: T - 5 }), FP, 0)).toBe(false);
  });

  it("a plan's approval is judged by its signing time alone", () => {
    expect(signedBeforeWithdrawal(approval({ signedAt: T + 1 }), FP, T, { plan: true })).toBe(false);
    expect(signedBeforeWithdrawal(approval({ signedAt: T }), FP, T, { plan: true })).toBe(true);
  });
});

describe('the withdrawals claim', () => {
  it('must be one non-negative whole ms time per fingerprint', async () => {
    const { privateJwk, publicJwk } = await generateApproverKey('alice');
    const jwks = { keys: [publicJwk] };
    for (const withdrawals of [[-1], [1.5], ['5'], [1, 2]] as unknown as number[][]) {
      const token = await signApproval(
        privateJwk,
        'c1',
        { action: 'approve', fingerprints: [FP], withdrawals },
        60,
      );
      const err = await verifyApproval(token, jwks, { audience: 'c1', maxTtlSeconds: 600 }).catch((e) => e);
      expect(err).toBeInstanceOf(ApprovalError);
      expect(err.message).toMatch(/withdrawals must be one time in ms per fingerprint/);
    }
    const good = await signApproval(
      privateJwk,
      'c1',
      { action: 'approve', fingerprints: [FP], withdrawals: [T] },
      60,
    );
    expect((await verifyApproval(good, jwks, { audience: 'c1', maxTtlSeconds: 600 })).withdrawals).toEqual([
      T,
    ]);
  });

  it('(bypass round 16) signedAt is within two seconds of iat: it cannot stretch the clock tolerance', async () => {
    const { privateJwk, publicJwk } = await generateApproverKey('alice');
    const jwks = { keys: [publicJwk] };
    const at = (signedAt: number) =>
      signApproval(privateJwk, 'c1', { action: 'approve', fingerprints: [FP], signedAt }, 60).then((t) =>
        verifyApproval(t, jwks, { audience: 'c1', maxTtlSeconds: 600 }),
      );
    const iat = Math.floor(Date.now() / 1000);
    await expect(at(iat * 1000 + 30_900)).rejects.toThrow(/signedAt must be the signing time/);
    await expect(at(iat * 1000 - 3_000)).rejects.toThrow(/signedAt must be the signing time/);
    expect((await at(Date.now())).signedAt).toBeGreaterThan(0);
  });
});
