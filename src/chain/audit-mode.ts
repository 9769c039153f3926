import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { type Decision, wouldHave } from '../policy/decision.js';
import type { RequestFacts } from './context.js';

/**
 * Rules in audit mode decide nothing: the enforced decision stands. What they would have done is
 * put on the request's facts (so every record of it says so) and counted, for a safe rollout.
 */
export function noteAuditMode(
  decision: Decision,
  config: Config,
  metrics: Metrics,
  facts?: RequestFacts,
): void {
  const would = wouldHave(decision);
  if (!would) return;
  const passesFree =
    !config.safety.require_approval || (decision.risk === 'LOW' && config.execution.auto_approve_low_risk);
  const hold = passesFree && config.safety.require_approval;
  for (const rule of would.rules) metrics.auditModeFinding(rule, hold ? 'hold' : 'raise');
  if (facts) Object.assign(facts, { would_risk: would.risk, would_hold: hold, audit_rules: would.rules });
}
