import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { PasskeyCredential } from './store.js';

/** Who the passkeys belong to: kubegate's console origin and its host name (the WebAuthn RP id). */
export interface RelyingParty {
  origin: string;
  rpId: string;
}

export function relyingParty(url: string): RelyingParty {
  const u = new URL(url);
  return { origin: u.origin, rpId: u.hostname };
}

/** A typed refusal of an assertion or a registration (never a 500). */
/**
 * The WebAuthn library, loaded on the first passkey operation: it costs ~24 MB of memory in a
 * kubegate whose approvers never use a passkey.
 */
let library: Promise<typeof import('@simplewebauthn/server')> | undefined;
const webauthn = () => {
  library ??= import('@simplewebauthn/server');
  return library;
};

export class PasskeyError extends Error {
  override name = 'PasskeyError';
}

export async function registrationOptions(
  rp: RelyingParty,
  approver: string,
  existing: PasskeyCredential[],
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const { generateRegistrationOptions } = await webauthn();
  return generateRegistrationOptions({
    rpName: 'kubegate',
    rpID: rp.rpId,
    userName: approver,
    userDisplayName: approver,
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.id })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    timeout: 120_000,
  });
}

/** Verifies a new passkey's registration: our challenge, origin and RP, user verification. */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  challenge: string,
): Promise<{ id: string; publicKey: string; counter: number; transports?: string[] }> {
  const { verifyRegistrationResponse } = await webauthn();
  const r = await verifyRegistrationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.rpId,
    requireUserVerification: true,
  }).catch((err: Error) => {
    throw new PasskeyError(`passkey registration refused: ${err.message}`);
  });
  if (!r.verified) throw new PasskeyError('passkey registration refused');
  const c = r.registrationInfo.credential;
  return {
    id: c.id,
    publicKey: Buffer.from(c.publicKey).toString('base64url'),
    counter: c.counter,
    ...(c.transports ? { transports: c.transports } : {}),
  };
}

export async function assertionOptions(
  rp: RelyingParty,
  challenge: string,
  creds: PasskeyCredential[] | undefined,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webauthn();
  return generateAuthenticationOptions({
    rpID: rp.rpId,
    challenge: Buffer.from(challenge, 'base64url'),
    userVerification: 'required',
    timeout: 120_000,
    ...(creds ? { allowCredentials: creds.map((c) => ({ id: c.id })) } : {}),
  });
}

/**
 * Verifies an assertion against one registered credential: the expected challenge, origin and
 * RP id, user verification required, and a sign counter that moved on (a cloned key does not).
 * Returns the new counter.
 */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  challenge: string,
  cred: Pick<PasskeyCredential, 'id' | 'public_key' | 'counter'>,
): Promise<number> {
  const { verifyAuthenticationResponse } = await webauthn();
  const r = await verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge,
    expectedOrigin: rp.origin,
    expectedRPID: rp.rpId,
    requireUserVerification: true,
    credential: { id: cred.id, publicKey: Buffer.from(cred.public_key, 'base64url'), counter: cred.counter },
  }).catch((err: Error) => {
    throw new PasskeyError(`passkey assertion refused: ${err.message}`);
  });
  if (!r.verified || !r.authenticationInfo.userVerified) throw new PasskeyError('passkey assertion refused');
  return r.authenticationInfo.newCounter;
}
