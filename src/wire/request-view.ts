import type { Impersonation } from './impersonation.js';

/**
 * A held request as the approvals API returns it and approve-cli renders it. The server's
 * state store keeps records in this shape too, so what approvers see is what was stored.
 */
export type PendingStatus =
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'executed'
  | 'failed'
  | 'cancelled'
  /** Nobody approved or rejected it within `execution.pending_expiry_seconds`. */
  | 'expired';

export interface PendingRequest {
  id: string;
  fingerprint: string;
  status: PendingStatus;
  requester: string;
  /** The requester's groups as the upstream reported them (used to preview the change as them). */
  requesterGroups?: string[];
  /** A risk class (see risk.ts); kept a string so a class approve-cli does not know still shows. */
  risk: string;
  reasons: string[];
  /** "default/deployments/api" — used to spot conflicting changes to the same object. */
  target: string;
  createdAt: number;
  updatedAt: number;
  /** Bytes kubegate keeps for it (its detail as stored): held requests are bounded by these. */
  bytes?: number;
  /** The request as shown to approvers: parts of the fingerprint, parsed body, live object version. */
  detail: PendingDetail;
  message?: string;
}

export interface PendingDetail {
  /** The cluster the request is for (part of the fingerprint, and the approval's audience). */
  cluster: string;
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  path: string;
  query: Record<string, string[]>;
  contentType: string;
  /** For a proxy request: its HTTP method, which the backend receives (part of the fingerprint). */
  proxyMethod?: string;
  /** The Impersonate-* headers the client sent, if any (part of the fingerprint). */
  impersonate?: Impersonation;
  /** The body as fingerprinted: the parsed JSON, or {contentType, sha256} for a binary body. */
  body: unknown;
  /** A binary body as the apiserver decoded it (display only). */
  decoded?: unknown;
  oldObject: unknown;
  resourceVersion?: string;
  override_required: boolean;
  approvals_required: number;
  /** Approver groups the policy named: one distinct approver from each. */
  approvals_from?: string[];
  dry_run_first: boolean;
  policy: string;
  /** Set on a rollback request: the request it undoes, and what the undo will do. */
  rollbackOf?: string;
  rollbackPlan?: { steps: string[]; effect: string };
}

/** What a change looked like before it ran, so it can be rolled back. */
export interface Snapshot {
  requestId: string;
  target: string;
  /** The object before the change (null when it did not exist: a create). */
  before: unknown;
  detail: PendingDetail;
  createdAt: number;
  /** Set once the change ran successfully: only then can it be rolled back. */
  executed?: boolean;
  /** The object as read just after the change ran: what the change set is before vs after. */
  after?: unknown;
  /** Who asked for the change, and its risk (for the records of its rollback). */
  requester?: string;
  risk?: string;
}
