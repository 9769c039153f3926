import { randomUUID } from 'node:crypto';
import { importJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { APPROVAL_ALGORITHMS, APPROVAL_ISSUER } from './approval-token.js';
import type { ApproverJwks, ApproverKeyFile } from './approver-key.js';

/** An enrolment link lives this long at most: it is used at once, in the approver's own browser. */
export const ENROL_TTL_SECONDS = 600;
const ENROL_TYPE = 'kubegate-enrol+jwt';
const ENROL_CLAIM = 'kubegate_enrol';

/** `approve-cli passkey enroll`: a one-time enrolment token signed with the approver's key. */
export async function signEnrolment(
  key: ApproverKeyFile,
  audience: string,
  ttlSeconds: number,
): Promise<string> {
  const alg = key.kty === 'EC' ? 'ES256' : 'EdDSA';
  return new SignJWT({ [ENROL_CLAIM]: true })
    .setProtectedHeader({ alg, kid: key.kid, typ: ENROL_TYPE })
    .setIssuer(APPROVAL_ISSUER)
    .setAudience(audience)
    .setSubject(key.name)
    .setIssuedAt()
    .setExpirationTime(`${Math.min(ENROL_TTL_SECONDS, Math.max(1, Math.floor(ttlSeconds)))}s`)
    .setJti(randomUUID())
    .sign(await importJWK(key as JWK, alg));
}

export interface Enrolment {
  approver: string;
  kid: string;
  jti: string;
  exp: number;
}

/**
 * Checks an enrolment token against the approvers' keys: our type and audience, a key whose owner
 * is the subject, a short life. `ignoreExpiry` is for the offline audit check of an old one.
 */
export async function verifyEnrolment(
  token: string,
  jwks: ApproverJwks,
  audience: string,
  opts: { ignoreExpiry?: boolean } = {},
): Promise<Enrolment> {
  const byKid = new Map(jwks.keys.map((k) => [k.kid, k]));
  const { payload, protectedHeader } = await jwtVerify(
    token,
    async (h) => {
      const k = h.kid ? byKid.get(h.kid) : undefined;
      if (!k || !h.alg) throw new Error('enrolment link signed by an unknown key');
      return importJWK(k, h.alg);
    },
    {
      algorithms: APPROVAL_ALGORITHMS,
      audience,
      issuer: APPROVAL_ISSUER,
      typ: ENROL_TYPE,
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      ...(opts.ignoreExpiry ? { currentDate: new Date(((await expOf(token)) - 1) * 1000) } : {}),
    },
  );
  const kid = String(protectedHeader.kid);
  const owner = byKid.get(kid)?.name;
  if (payload.sub !== owner || payload[ENROL_CLAIM] !== true)
    throw new Error('not an enrolment link for its signer');
  if (payload.exp! - payload.iat! > ENROL_TTL_SECONDS) throw new Error('enrolment link lives too long');
  return { approver: String(owner), kid, jti: String(payload.jti), exp: payload.exp! };
}

async function expOf(token: string): Promise<number> {
  const part = token.split('.')[1] ?? '';
  const exp = (JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
  return typeof exp === 'number' ? exp : 0;
}
