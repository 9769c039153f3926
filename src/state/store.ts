import { hasImpersonation, type Impersonation } from '../wire/impersonation.js';
import type { PlanView } from '../wire/plan-view.js';
import type { PendingDetail, PendingRequest, PendingStatus, Snapshot } from '../wire/request-view.js';
import { proxyMethodOf } from '../wire/verbs.js';

/** The detail approvers see for one request, from its parsed form, body, live object and decision. */
export function pendingDetail(
  kr: Pick<
    PendingDetail,
    | 'verb'
    | 'group'
    | 'version'
    | 'resource'
    | 'subresource'
    | 'namespace'
    | 'name'
    | 'path'
    | 'query'
    | 'contentType'
    | 'cluster'
  > & { method?: string; impersonate?: Impersonation },
  body: unknown,
  oldObject: unknown,
  decision: {
    override_required: boolean;
    approvals: number;
    dry_run_first: boolean;
    policy: string;
    approvals_from?: string[];
  },
): PendingDetail {
  const rv = (oldObject as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return {
    cluster: kr.cluster,
    verb: kr.verb,
    group: kr.group,
    version: kr.version,
    resource: kr.resource,
    subresource: kr.subresource,
    namespace: kr.namespace,
    name: kr.name,
    path: kr.path,
    query: kr.query,
    contentType: kr.contentType,
    ...(proxyMethodOf(kr) ? { proxyMethod: proxyMethodOf(kr) } : {}),
    ...(kr.impersonate && hasImpersonation(kr.impersonate) ? { impersonate: kr.impersonate } : {}),
    body,
    oldObject,
    ...(typeof rv === 'string' ? { resourceVersion: rv } : {}),
    override_required: decision.override_required,
    approvals_required: decision.approvals,
    ...(decision.approvals_from?.length ? { approvals_from: decision.approvals_from } : {}),
    dry_run_first: decision.dry_run_first,
    policy: decision.policy,
  };
}

export interface StoredApproval {
  jti: string;
  fingerprint: string;
  approver: string;
  kid: string;
  override: boolean;
  reason: string;
  resourceVersion?: string;
  /** The content hash of the object at that version (objectContentHash): status-only moves keep it valid. */
  objectHash?: string;
  planId?: string;
  /** Approved as a step of this kubegate plan: counts only for that plan's run of the step. */
  boundToPlan?: string;
  exp: number;
  requestId?: string;
  usedAt?: number;
  revokedAt?: number;
}

/**
 * What `prune` may delete: records that can no longer change a decision. Each bound is a
 * time in ms; kubegate computes them from the token lifetime and `state.retention_days`.
 */
export interface PruneRules {
  /** Approvals and used token ids whose token expired before this: a replay is refused as expired. */
  tokensExpiredBefore: number;
  /**
   * Withdrawal markers set, and approval consumptions started, before this: every token they
   * could concern has expired (this is at least the longest token lifetime before now).
   */
  tokenWindowBefore: number;
  /** Pending requests last changed, dry runs recorded and rollback snapshots taken before this. */
  recordsBefore: number;
}

/**
 * Everything kubegate must remember across restarts (and, with the Kubernetes
 * store, share across replicas): pending requests, approvals and used token ids,
 * successful dry runs, the freeze switch, rollback snapshots.
 */
export interface StateStore {
  getPending(id: string): Promise<PendingRequest | undefined>;
  /** The newest request with this fingerprint in one of `statuses` (default: pending or approved). */
  findPendingByFingerprint(
    fingerprint: string,
    statuses?: PendingStatus[],
  ): Promise<PendingRequest | undefined>;
  listPending(statuses?: PendingStatus[]): Promise<PendingRequest[]>;
  putPending(p: PendingRequest): Promise<void>;
  /** Sets status only if the current one is in `from`; returns whether it changed (the one-winner check). */
  transitionPending(id: string, from: PendingStatus[], to: PendingStatus, message?: string): Promise<boolean>;
  countPending(): Promise<number>;

  /** Records an approval; false if its jti was ever seen (replay). */
  addApproval(a: StoredApproval): Promise<boolean>;
  /** Live approvals (not used, not revoked, not expired) for a fingerprint. */
  approvalsFor(fingerprint: string, now: number): Promise<StoredApproval[]>;
  /** Marks approvals used, all or none (single use, atomic). */
  consumeApprovals(jtis: string[], now: number): Promise<boolean>;
  /** Gives consumed approvals back when the change did not happen (an upgrade the upstream refused). */
  releaseApprovals(jtis: string[]): Promise<void>;
  /**
   * Withdraws approvals; returns how many unused ones were revoked. One in use (spent by a run
   * under way) is marked too, so that releasing it (nothing ran) leaves it revoked.
   */
  revokeApprovals(
    filter: { jtis?: string[]; fingerprint?: string; approver?: string },
    now: number,
  ): Promise<number>;
  /** Records a token id used for a non-approval action; false on replay. */
  useJti(jti: string, exp: number): Promise<boolean>;

  /** A reject or revoke withdraws every approval signed up to `at` for this fingerprint, stored or not. */
  markWithdrawn(fingerprint: string, at: number): Promise<void>;
  /** When approvals for this fingerprint were last withdrawn (ms), or 0. */
  withdrawnAt(fingerprint: string): Promise<number>;

  recordDryRun(fingerprint: string, at: number): Promise<void>;
  hasDryRun(fingerprint: string): Promise<boolean>;

  getFreeze(): Promise<{ on: boolean; by?: string; at?: number; reason?: string }>;
  setFreeze(f: { on: boolean; by: string; at: number; reason?: string }): Promise<void>;

  putSnapshot(s: Snapshot): Promise<void>;
  getSnapshot(requestId: string): Promise<Snapshot | undefined>;

  /** Stores a new plan; false when its id is taken. */
  createPlan(p: PlanView): Promise<boolean>;
  getPlan(id: string): Promise<PlanView | undefined>;
  listPlans(): Promise<PlanView[]>;
  /**
   * Compare-and-swap: `change` sees the stored plan and returns its next state (or undefined to
   * leave it); retried when another writer came first. Returns the plan as stored afterwards.
   */
  updatePlan(id: string, change: (p: PlanView) => PlanView | undefined): Promise<PlanView | undefined>;

  /**
   * The one store-wide feed of changes to pending requests and approvals, by any replica or
   * process: `onNews` gets the `newsKey` of the fingerprint concerned, or '*' when the feed may
   * have missed changes (a restart after an error). Held requests wait on it instead of each
   * polling the store. Returns a stop function.
   */
  watchNews(onNews: (key: string) => void): () => void;
  /** The key `watchNews` names a fingerprint's changes by. */
  newsKey(fingerprint: string): string;

  /** Deletes what `rules` allow (the freeze switch is never pruned); returns how many records went. */
  prune(rules: PruneRules): Promise<number>;

  close(): Promise<void>;
}
