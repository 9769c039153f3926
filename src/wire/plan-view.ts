import type { PendingDetail } from './request-view.js';

/**
 * A plan as the plans API returns it and approve-cli, `kubegate plan` and the MCP server show
 * it: ordered steps decided and dry-run before anything runs, approved whole, run step by step.
 */
export type PlanStatus =
  | 'submitting'
  | 'refused'
  | 'pending'
  | 'approved'
  | 'rejected'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'stopped'
  | 'cancelled';

export type StepStatus = 'waiting' | 'running' | 'done' | 'failed' | 'skipped';

/** A check run after a step or at the end; see src/plan/checks.ts for what each means. */
export type PlanCheck =
  | { available: ObjectRef & { replicas?: number } }
  | { noCrashLoop: { namespace: string; selector?: string } }
  | { exists: ObjectRef }
  | { absent: ObjectRef }
  | { equals: ObjectRef & { field: string; value: unknown } };

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** What a step's live object looked like when the plan was approved: a different one is drift. */
export interface Expectation {
  exists: boolean;
  uid?: string;
  /** metadata.generation (spec changes only) where the object has one, else its resourceVersion. */
  version?: string;
}

export interface PlanStep {
  /** 1-based, in run order. */
  index: number;
  /** One line: what the step does ("scale apps/deployments default/web to 3"). */
  summary: string;
  fingerprint: string;
  risk: string;
  reasons: string[];
  target: string;
  /** The request as fingerprinted (approve-cli recomputes the fingerprint from it). */
  detail: PendingDetail;
  /** The server-side dry run's result, or null when the step depends on an earlier one. */
  dryRun: unknown;
  /** Why there is no dry run (the object an earlier step creates does not exist yet). */
  dryRunNote?: string;
  /** What would undo it, as planned against the dry run (display only). */
  rollback: string[];
  checks: PlanCheck[];
  /** How long its checks may take to pass (else the server's default). */
  timeoutSeconds?: number;
  expect: Expectation;
  status: StepStatus;
  message?: string;
  /** The audit id of the step's real run. */
  requestId?: string;
}

export interface PlanApproval {
  approver: string;
  override: boolean;
  reason?: string;
  at: number;
}

export interface PlanView {
  id: string;
  title: string;
  why: string;
  estimate?: string;
  /** Seconds of re-checking the final checks after the run. */
  monitorSeconds?: number;
  requester: string;
  requesterGroups?: string[];
  /** The cluster the plan was submitted through (its requester's identity is that cluster's). */
  cluster?: string;
  risk: string;
  reasons: string[];
  approvals_required: number;
  override_required: boolean;
  /** Approver groups the plan needs one approver from each of (every step's, together). */
  approvals_from?: string[];
  status: PlanStatus;
  createdAt: number;
  updatedAt: number;
  steps: PlanStep[];
  checks: PlanCheck[];
  approvals: PlanApproval[];
  /** The plan's own rollback steps, as submitted (a rollback plan uses them instead of derived undos). */
  rollback?: unknown[];
  /** Set on a rollback plan: the plan it undoes, and the approver who proposed it (who may not approve it). */
  rollbackOf?: string;
  proposedBy?: string;
  stopRequested?: { by: string; at: number };
  message?: string;
}

/** The clusters a plan touches: the one it came through first, then its steps' (once each). */
export function planClusters(plan: {
  cluster?: string;
  steps: { detail?: { cluster?: string } }[];
}): string[] {
  const all = [plan.cluster, ...plan.steps.map((s) => s.detail?.cluster)];
  return [...new Set(all.filter((c): c is string => !!c))];
}

/** The fingerprints an approval of the plan signs, in run order. */
export const planFingerprints = (p: Pick<PlanView, 'steps'>): string[] => p.steps.map((s) => s.fingerprint);

export const isPlanId = (id: string): boolean => /^plan-\d{8}-\d{3,}$/.test(id);
