import type { AuditLog } from '../audit/log.js';
import { StatusError } from '../kube/status.js';
import { type PlanView, planClusters } from '../wire/plan-view.js';

/** Every event a plan can have in the audit log (its steps' requests carry `plan_id` too). */
export const PLAN_EVENTS = [
  'plan_submitted', // decided and dry-run, held for approval
  'plan_refused', // a step the policy denies, or a dry run that failed: nothing held
  'plan_approved', // one approval of the whole plan
  'plan_rejected',
  'plan_started',
  'plan_step', // one step done, failed or skipped
  'plan_stop_requested',
  'plan_finished', // succeeded, failed or stopped
  'validated', // the final checks passed
  'validation_failed', // … or not, with expected vs observed and the rollback command
  'monitor_regression', // a final check failed while monitoring
] as const;
export type PlanEvent = (typeof PLAN_EVENTS)[number];

/** A durable plan record; like request records, a log that cannot write stops the plan (503). */
export async function recordPlan(
  log: AuditLog,
  plan: Pick<PlanView, 'id' | 'requester' | 'risk' | 'title' | 'cluster' | 'steps'>,
  event: PlanEvent,
  extra: Record<string, unknown> = {},
): Promise<void> {
  try {
    await log.append({
      event,
      plan_id: plan.id,
      // the plan's clusters: the one it came through, and every step's
      cluster: planClusters(plan).join(','),
      user: plan.requester,
      risk: plan.risk,
      action: `plan ${plan.title}`,
      ...extra,
    });
  } catch {
    throw new StatusError(
      503,
      'ServiceUnavailable',
      'kubegate cannot write its audit log: the plan stops here',
    );
  }
}

/** The command that proposes undoing what a plan ran. */
export const rollbackCommand = (id: string) => `approve-cli rollback ${id}`;
