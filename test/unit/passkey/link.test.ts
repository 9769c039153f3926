import { describe, expect, it } from 'vitest';
import { generateApproverKey } from '../../../src/wire/approver-key.js';
import { signEnrolment, verifyEnrolment } from '../../../src/wire/enrol-link.js';

describe('enrolment links', () => {
  it("verify against the signer's public key, for its owner, audience and short life only", async () => {
    const alice = await generateApproverKey('alice');
    const bob = await generateApproverKey('bob');
    const jwks = { keys: [alice.publicJwk, bob.publicJwk] };
    const token = await signEnrolment(alice.privateJwk, 'kubegate', 600);
    expect(await verifyEnrolment(token, jwks, 'kubegate')).toMatchObject({ approver: 'alice' });
    await expect(verifyEnrolment(token, jwks, 'other-cluster')).rejects.toThrow();
    await expect(verifyEnrolment(token, { keys: [bob.publicJwk] }, 'kubegate')).rejects.toThrow(
      /unknown key/,
    );
    // a key claiming to be someone else: alice's key with bob's name
    const forged = await signEnrolment({ ...alice.privateJwk, name: 'bob' }, 'kubegate', 600);
    await expect(verifyEnrolment(forged, jwks, 'kubegate')).rejects.toThrow(
      /not an enrolment link for its signer/,
    );
    // one byte of the signature changed
    const [h, p, s] = token.split('.');
    const sig = Buffer.from(s!, 'base64url');
    sig[10]! ^= 1;
    const flipped = `${h}.${p}.${sig.toString('base64url')}`;
    await expect(verifyEnrolment(flipped, jwks, 'kubegate')).rejects.toThrow();
  });
});
