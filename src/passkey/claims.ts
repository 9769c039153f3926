import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { ApprovalClaims } from '../wire/approval-token.js';

// canonicalize is CommonJS typed as an ESM default export (see src/audit/chain.ts).
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/**
 * What a passkey signs: the same claims as an approve-cli token, plus what the JWS header and
 * registered claims would carry (who, which cluster, when, which jti). The WebAuthn challenge is
 * the hash of exactly this object, so the authenticator's signature covers the whole approval.
 */
export interface PasskeyClaims extends ApprovalClaims {
  /** The approver (the JWS `sub`). */
  sub: string;
  /** kubegate's cluster_name, and the request's cluster when it is another (the JWS `aud`). */
  aud: string | string[];
  iat: number;
  exp: number;
  jti: string;
}

/** base64url(sha256(RFC 8785 JSON of the claims)): the WebAuthn challenge of an approval. */
export function challengeOf(claims: PasskeyClaims): string {
  const text = canonicalize(claims);
  if (text === undefined) throw new TypeError('claims cannot be canonicalised');
  return createHash('sha256').update(text).digest('base64url');
}

/** The assertion kept in the audit record, enough to check the signature again offline. */
export interface PasskeyEvidence {
  credential_id: string;
  authenticator_data: string;
  client_data_json: string;
  signature: string;
  claims: PasskeyClaims;
}
