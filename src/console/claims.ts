import { randomUUID } from 'node:crypto';
import { ApprovalError } from '../approval/token.js';
import { blindRefusal, blindSpots } from '../approvecli/blind.js';
import { StatusError } from '../kube/status.js';
import type { PasskeyClaims } from '../passkey/claims.js';
import type { ConsoleDeps } from './deps.js';
import { staleShown } from './stale.js';
import { verifiedView } from './views.js';

/** What the console asks to sign: an action and its inputs; the claims are built here, from state. */
export interface ActionAsk {
  action?: unknown;
  id?: unknown;
  override?: unknown;
  reason?: unknown;
  on?: unknown;
  blind?: unknown;
  /** approve: the fingerprint of the request as the approver's page showed it. */
  fingerprint?: unknown;
  /** approve: the live object's resourceVersion the page showed (the approval binds to it). */
  resourceVersion?: unknown;
  /** approve: the risk class the page showed. */
  risk?: unknown;
  /** approve: objectDigest of the live object the page showed. */
  objectDigest?: unknown;
}

/** A passkey approval lives two minutes at most (and never longer than a token may). */
const PASSKEY_TTL_SECONDS = 120;

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 500) : undefined);
const requestId = (v: unknown) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(v))
    throw new StatusError(400, 'BadRequest', 'a request id is needed');
  return v;
};

/**
 * The claims one passkey assertion will sign, from kubegate's own state (never from the browser):
 * the fingerprint the approver's page showed, recomputed as approve-cli does, its risk, the
 * override and reason, the cluster, a short expiry and a fresh jti.
 */
export async function claimsFor(deps: ConsoleDeps, approver: string, ask: ActionAsk): Promise<PasskeyClaims> {
  const iat = Math.floor(Date.now() / 1000);
  const base = {
    sub: approver,
    aud: deps.console.cluster,
    iat,
    exp: iat + Math.min(PASSKEY_TTL_SECONDS, deps.console.maxTtlSeconds),
    jti: randomUUID(),
  };
  const reason = text(ask.reason);
  switch (ask.action) {
    case 'approve': {
      const { cluster, ...claims } = await approveClaims(deps, approver, ask, reason);
      // an approval names its request's cluster too: it approves nothing on another
      const aud = [...new Set([deps.console.cluster, cluster])];
      return { ...claims, ...base, aud: aud.length === 1 ? deps.console.cluster : aud };
    }
    case 'reject':
      if (!reason) throw new StatusError(400, 'BadRequest', 'a rejection needs a reason');
      return { action: 'reject', requestIds: [requestId(ask.id)], reason, ...base };
    case 'revoke':
      return { action: 'revoke', requestIds: [requestId(ask.id)], ...base };
    case 'rollback':
      return { action: 'rollback', requestIds: [requestId(ask.id)], ...base };
    case 'freeze':
      if (typeof ask.on !== 'boolean') throw new StatusError(400, 'BadRequest', 'freeze needs on or off');
      return { action: 'freeze', freeze: ask.on, ...(reason ? { reason } : {}), ...base };
    default:
      throw new StatusError(400, 'BadRequest', 'unknown console action');
  }
}

async function approveClaims(deps: ConsoleDeps, approver: string, ask: ActionAsk, reason?: string) {
  const id = requestId(ask.id);
  const v = await verifiedView(deps, id, approver);
  if (!v) throw new ApprovalError(`no request ${id}`, 'not-found');
  const { view, fingerprint } = v;
  if (ask.fingerprint !== fingerprint)
    throw new ApprovalError(`${id} changed since your page showed it: reload and look again`, 'mismatch');
  if (view.status !== 'pending')
    throw new ApprovalError(`${id} is ${view.status}, not pending: nothing to approve`, 'conflict');
  const stale = staleShown(view, ask);
  if (stale) throw new ApprovalError(`${id}: ${stale}`, 'mismatch');
  if (view.requester === approver)
    throw new ApprovalError(
      `${approver} requested ${id}; a requester cannot approve their own request`,
      'self-approval',
    );
  const spots = blindSpots(view.detail, v.preview);
  if (spots.length && ask.blind !== true) throw new ApprovalError(blindRefusal([{ id, spots }]), 'conflict');
  const override = ask.override === true;
  if (override && !reason) throw new StatusError(400, 'BadRequest', 'an override needs a reason');
  return {
    action: 'approve' as const,
    fingerprints: [fingerprint],
    requestIds: [id],
    risk: view.risk,
    ...(override ? { override: true } : {}),
    ...(reason ? { reason } : {}),
    ...(view.detail.resourceVersion ? { resourceVersion: view.detail.resourceVersion } : {}),
    ...(spots.length ? { blind: true } : {}),
    withdrawals: [view.withdrawn_at ?? 0],
    signedAt: Date.now(),
    cluster: view.detail.cluster,
  };
}
