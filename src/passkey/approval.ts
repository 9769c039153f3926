import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { VerifiedApproval } from '../approval/token.js';
import { audienceList } from '../approval/token.js';
import { challengeOf, type PasskeyClaims, type PasskeyEvidence } from './claims.js';
import type { PasskeyStore } from './store.js';
import { PasskeyError, type RelyingParty, verifyAssertion } from './webauthn.js';

const minted = Symbol('passkey-approval');

/**
 * An approval whose passkey assertion this module verified. Only verifyPasskeyApproval makes one;
 * the ApprovalService accepts it where it accepts a JWS, and applies the same rules to both.
 */
export class PasskeyApproval {
  constructor(
    token: symbol,
    readonly verified: VerifiedApproval,
  ) {
    if (token !== minted) throw new Error('a PasskeyApproval is made by verifyPasskeyApproval only');
  }
}

/**
 * Checks that the assertion signs exactly these claims (challenge = their hash), with a passkey
 * of the approver the claims name, still alive; returns the approval with its evidence.
 */
export async function verifyPasskeyApproval(
  rp: RelyingParty,
  store: PasskeyStore,
  claims: PasskeyClaims,
  response: AuthenticationResponseJSON,
): Promise<PasskeyApproval> {
  const cred = store.get(String(response?.id));
  if (!cred || cred.approver !== claims.sub)
    throw new PasskeyError(`this passkey is not one of ${claims.sub}'s registered passkeys`);
  if (claims.exp * 1000 < Date.now()) throw new PasskeyError('the approval expired before it was signed');
  const counter = await verifyAssertion(rp, response, challengeOf(claims), cred);
  store.setCounter(cred.id, counter);
  const evidence: PasskeyEvidence = {
    credential_id: cred.id,
    authenticator_data: response.response.authenticatorData,
    client_data_json: response.response.clientDataJSON,
    signature: response.response.signature,
    claims,
  };
  const { sub, aud, iat, exp, jti, ...rest } = claims;
  return new PasskeyApproval(minted, {
    ...rest,
    audience: audienceList(aud),
    approver: sub,
    kid: `passkey:${cred.id.slice(0, 16)}`,
    jti,
    iat,
    exp,
    token: '',
    passkey: evidence,
  });
}
