import { describe, expect, it } from 'vitest';
import { SignInChallenges } from '../../../src/console/signin-challenge.js';

describe('stateless sign-in challenges', () => {
  it('a flood of new challenges does not expire an earlier one (nothing is stored per caller)', () => {
    const c = new SignInChallenges();
    const mine = c.issue();
    for (let i = 0; i < 20_000; i++) c.issue();
    expect(c.refusal(mine)).toBeUndefined();
  });

  it('refuses a forged or altered challenge, one of another kubegate, and an expired one', () => {
    let t = 1_000_000;
    const c = new SignInChallenges(() => t);
    const ok = c.issue();
    const raw = Buffer.from(ok, 'base64url');
    raw[20]! ^= 1;
    expect(c.refusal(raw.toString('base64url'))).toMatch(/not a sign-in challenge/);
    expect(c.refusal('abc')).toMatch(/not a sign-in challenge/);
    expect(c.refusal(undefined)).toMatch(/expired/);
    expect(new SignInChallenges(() => t).refusal(ok)).toMatch(/not a sign-in challenge/);
    t += 120_001;
    expect(c.refusal(ok)).toMatch(/expired/);
  });

  it('is used once: a second answer to a challenge that signed someone in is refused', () => {
    const c = new SignInChallenges();
    const ok = c.issue();
    expect(c.use(ok)).toBe(true);
    expect(c.use(ok)).toBe(false);
    expect(c.refusal(ok)).toMatch(/already used/);
  });
});
