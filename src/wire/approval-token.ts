import { randomUUID } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';
import type { ApproverKeyFile } from './approver-key.js';

/**
 * The approval token as approve-cli signs it. kubegate verifies it (src/approval/token.ts)
 * against the same constants, so the two sides agree on one format.
 */

/** What an approver's signature can say. Every token names one action. */
export const APPROVAL_ACTIONS = ['approve', 'reject', 'revoke', 'freeze', 'read', 'rollback'] as const;
export type ApprovalAction = (typeof APPROVAL_ACTIONS)[number];

export function isApprovalAction(value: unknown): value is ApprovalAction {
  return (APPROVAL_ACTIONS as readonly unknown[]).includes(value);
}

export interface ApprovalClaims {
  action: ApprovalAction;
  /** approve: the request fingerprints this token approves (one, or a plan's list). */
  fingerprints?: string[];
  /** The pending request id(s) the approver looked at. */
  requestIds?: string[];
  planId?: string;
  risk?: string;
  override?: boolean;
  reason?: string;
  /** approve, one request: the live object's resourceVersion the approver saw (pre-flight drift check). */
  resourceVersion?: string;
  /**
   * approve, several requests: the live object's resourceVersion the approver saw for each, in the
   * order of `fingerprints` ('' where there was none, as for a create).
   */
  resourceVersions?: string[];
  /**
   * approve: for each of `fingerprints`, when kubegate last withdrew that request's approvals as
   * the approver's view showed it (`withdrawn_at`, kubegate's clock in ms; 0 for never). The
   * approval counts only while that is still the last withdrawal, whatever the approver's clock.
   */
  withdrawals?: number[];
  /** freeze: on or off. */
  freeze?: boolean;
  /** revoke: the approval token ids withdrawn. */
  revokes?: string[];
  /** approve: the approver saw that part of the change could not be shown, and approves anyway. */
  blind?: boolean;
  /**
   * When it was signed, in ms (iat has whole seconds): an approval signed just after a reject or
   * revoke in the same second is not mistaken for one signed before it.
   */
  signedAt?: number;
}

/** Asymmetric algorithms only: no `none`, no HMAC (a shared secret would let kubegate sign). */
export const APPROVAL_ALGORITHMS = ['EdDSA', 'ES256'];
export const APPROVAL_ISSUER = 'approve-cli';
/** The JWT claim that carries the ApprovalClaims. */
export const APPROVAL_CLAIM = 'kubegate';

export async function signApproval(
  key: ApproverKeyFile,
  audience: string | string[],
  claims: ApprovalClaims,
  ttlSeconds: number,
): Promise<string> {
  const alg = key.kty === 'EC' ? 'ES256' : 'EdDSA';
  const privateKey = await importJWK(key as JWK, alg);
  return new SignJWT({ [APPROVAL_CLAIM]: claims })
    .setProtectedHeader({ alg, kid: key.kid, typ: 'kubegate-approval+jwt' })
    .setIssuer(APPROVAL_ISSUER)
    .setAudience(audience)
    .setSubject(key.name)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime(`${Math.max(1, Math.floor(ttlSeconds))}s`)
    .setJti(randomUUID())
    .sign(privateKey);
}
