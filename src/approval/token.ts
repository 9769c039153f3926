import { errors, importJWK, type JWTPayload, jwtVerify } from 'jose';
import type { PasskeyEvidence } from '../passkey/claims.js';
import {
  APPROVAL_ALGORITHMS,
  APPROVAL_CLAIM,
  APPROVAL_ISSUER,
  type ApprovalClaims,
  isApprovalAction,
} from '../wire/approval-token.js';
import type { ApproverJwks } from '../wire/approver-key.js';
import { CLOCK_TOLERANCE_SECONDS, SIGNED_AT_SLACK_MS } from './withdrawals.js';

export interface VerifiedApproval extends ApprovalClaims {
  approver: string;
  kid: string;
  jti: string;
  iat: number;
  exp: number;
  token: string;
  /** The token's audience: kubegate's cluster_name and, for a request's approval, the request's cluster. */
  audience: string[];
  /** Signed in the console with a passkey: the assertion, kept in the audit record. */
  passkey?: PasskeyEvidence;
}

/** Typed refusals, so the API and the gate can answer each with a precise Status. */
export class ApprovalError extends Error {
  override name = 'ApprovalError';
  constructor(
    message: string,
    readonly code:
      | 'invalid'
      | 'expired'
      | 'replayed'
      | 'self-approval'
      | 'out-of-scope'
      | 'mismatch'
      | 'not-found'
      | 'conflict',
  ) {
    super(message);
  }
}

export interface VerifyOptions {
  audience: string;
  maxTtlSeconds: number;
  clockToleranceSeconds?: number;
}

/**
 * Verifies an approver's token: EdDSA/ES256 only (no `none`, no HMAC), a known
 * `kid` whose owner is the token's `sub`, our audience, a short life. Replay and
 * self-approval are the caller's checks (they need state and the requester).
 */
export async function verifyApproval(
  token: string,
  jwks: ApproverJwks,
  opts: VerifyOptions,
): Promise<VerifiedApproval> {
  const byKid = new Map(jwks.keys.map((k) => [k.kid, k]));
  let payload: JWTPayload;
  let kid: string;
  try {
    const res = await jwtVerify(
      token,
      async (header) => {
        if (!header.alg || !APPROVAL_ALGORITHMS.includes(header.alg))
          throw new ApprovalError(`algorithm ${header.alg} not accepted`, 'invalid');
        const k = header.kid ? byKid.get(header.kid) : undefined;
        if (!k) throw new ApprovalError(`unknown signing key ${JSON.stringify(header.kid)}`, 'invalid');
        return importJWK(k, header.alg);
      },
      {
        algorithms: APPROVAL_ALGORITHMS,
        audience: opts.audience,
        issuer: APPROVAL_ISSUER,
        clockTolerance: opts.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'jti', 'sub'],
      },
    );
    payload = res.payload;
    kid = res.protectedHeader.kid!;
  } catch (err) {
    if (err instanceof ApprovalError) throw err;
    if (err instanceof errors.JWTExpired) throw new ApprovalError('approval token expired', 'expired');
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'aud')
      throw new ApprovalError(
        `approval token rejected: it is for cluster ${JSON.stringify(err.payload.aud)}, this kubegate is cluster "${opts.audience}" (approve-cli --gate ${opts.audience}, or KUBEGATE_GATE)`,
        'invalid',
      );
    if (err instanceof errors.JWTClaimValidationFailed)
      throw new ApprovalError(`approval token rejected: ${err.message}`, 'invalid');
    if (err instanceof errors.JOSEError)
      throw new ApprovalError(`approval token rejected: ${err.code}`, 'invalid');
    throw new ApprovalError('approval token rejected: malformed', 'invalid');
  }
  const owner = byKid.get(kid)!.name;
  if (payload.sub !== owner)
    throw new ApprovalError(`token subject ${payload.sub} does not own key ${kid}`, 'invalid');
  const iat = payload.iat!;
  const exp = payload.exp!;
  const skew = opts.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS;
  checkLifetime(iat, exp, opts.maxTtlSeconds, skew);
  const claims = checkClaims(payload[APPROVAL_CLAIM], iat);
  const audience = audienceList(payload.aud);
  return { ...claims, approver: owner, kid, jti: String(payload.jti), iat, exp, token, audience };
}

/** A JWT `aud` (one string or a list) as a list. */
export function audienceList(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
}

/** A short life measured from now and from iat: iat in the future would let a token outlive the cap. */
function checkLifetime(iat: number, exp: number, maxTtlSeconds: number, skew: number): void {
  const now = Math.floor(Date.now() / 1000);
  if (iat > now + skew) throw new ApprovalError('approval token issued in the future', 'invalid');
  if (exp - now > maxTtlSeconds + skew)
    throw new ApprovalError(
      `approval token expires in ${exp - now}s; kubegate accepts at most ${maxTtlSeconds}s`,
      'invalid',
    );
  if (exp - iat > maxTtlSeconds)
    throw new ApprovalError(
      `approval token lives ${exp - iat}s; kubegate accepts at most ${maxTtlSeconds}s`,
      'invalid',
    );
}

/** The kubegate claim: an action, and each optional field of the type it must have. */
function checkClaims(raw: unknown, iat: number): ApprovalClaims {
  const claims = raw as ApprovalClaims | undefined;
  if (!claims || typeof claims !== 'object' || !isApprovalAction(claims.action))
    throw new ApprovalError('approval token has no kubegate action', 'invalid');
  if (
    claims.fingerprints !== undefined &&
    !(Array.isArray(claims.fingerprints) && claims.fingerprints.every((f) => typeof f === 'string'))
  )
    throw new ApprovalError('approval token: fingerprints must be strings', 'invalid');
  // the same clock set both: iat is signedAt's second, or the next if the signing crossed one
  if (
    claims.signedAt !== undefined &&
    !(typeof claims.signedAt === 'number' && Math.abs(claims.signedAt - iat * 1000) < SIGNED_AT_SLACK_MS)
  )
    throw new ApprovalError(
      'approval token: signedAt must be the signing time in ms (within iat)',
      'invalid',
    );
  if (claims.resourceVersion !== undefined && typeof claims.resourceVersion !== 'string')
    throw new ApprovalError('approval token: resourceVersion must be a string', 'invalid');
  if (
    claims.resourceVersions !== undefined &&
    !(
      Array.isArray(claims.resourceVersions) &&
      claims.resourceVersions.length === claims.fingerprints?.length &&
      claims.resourceVersions.every((v) => typeof v === 'string')
    )
  )
    throw new ApprovalError('approval token: resourceVersions must be one string per fingerprint', 'invalid');
  if (
    claims.withdrawals !== undefined &&
    !(
      Array.isArray(claims.withdrawals) &&
      claims.withdrawals.length === claims.fingerprints?.length &&
      claims.withdrawals.every((w) => Number.isSafeInteger(w) && w >= 0)
    )
  )
    throw new ApprovalError('approval token: withdrawals must be one time in ms per fingerprint', 'invalid');
  if (claims.blind !== undefined && typeof claims.blind !== 'boolean')
    throw new ApprovalError('approval token: blind must be true or false', 'invalid');
  if (claims.action === 'approve' && !claims.fingerprints?.length)
    throw new ApprovalError('approval names no request', 'invalid');
  if (claims.override && !(typeof claims.reason === 'string' && claims.reason.trim()))
    throw new ApprovalError('an override needs a reason', 'invalid');
  return claims;
}

/**
 * The token id an approval is stored under, for one approved fingerprint: the token's own jti,
 * or `jti#index` for each request of a plan. Both ways of delivering a token (the approvals API
 * and the Kubegate-Approval header) use this, so a plan approves each request once, however sent.
 */
export function approvalJti(jti: string, fingerprints: string[], fingerprint: string): string {
  return fingerprints.length <= 1 ? jti : `${jti}#${fingerprints.indexOf(fingerprint)}`;
}
