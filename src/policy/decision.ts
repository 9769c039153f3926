import { isRisk, type Risk } from '../wire/risk.js';

/** The value of `kubegate/decision`, validated, plus the policy version that produced it. */
export interface Decision {
  /** Only Rego decides which risk class applies. */
  risk: Risk;
  reasons: string[];
  approvals: number;
  override_required: boolean;
  dry_run_first: boolean;
  deny: string[];
  /** Approver groups the change needs: one distinct approver from each (kubegate's approvers file). */
  approvals_from: string[];
  /** What rules in audit mode found: they decide nothing, kubegate records what they would have done. */
  audit_findings: AuditFinding[];
  /** sha256 of the policy wasm that decided. */
  policy: string;
}

export interface AuditFinding {
  rule: string;
  risk: Risk;
  reason: string;
}

export class PolicyError extends Error {
  override name = 'PolicyError';
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Checks a raw decision against the contract. Anything missing or mistyped is a
 * PolicyError, which the gate turns into a refusal: a policy bug must never open the gate.
 */
export function validateDecision(raw: unknown, policy: string): Decision {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new PolicyError('policy returned no decision object');
  const d = raw as Record<string, unknown>;
  if (!isRisk(d.risk)) throw new PolicyError(`policy returned invalid risk ${JSON.stringify(d.risk)}`);
  if (!isStringArray(d.reasons))
    throw new PolicyError('policy decision: reasons must be an array of strings');
  if (
    typeof d.approvals !== 'number' ||
    !Number.isInteger(d.approvals) ||
    d.approvals < 0 ||
    d.approvals > 10
  ) {
    throw new PolicyError('policy decision: approvals must be an integer 0..10');
  }
  if (typeof d.override_required !== 'boolean')
    throw new PolicyError('policy decision: override_required must be a boolean');
  if (typeof d.dry_run_first !== 'boolean')
    throw new PolicyError('policy decision: dry_run_first must be a boolean');
  if (!isStringArray(d.deny)) throw new PolicyError('policy decision: deny must be an array of strings');
  const approvalsFrom = d.approvals_from ?? [];
  if (!isStringArray(approvalsFrom) || approvalsFrom.some((g) => !g))
    throw new PolicyError('policy decision: approvals_from must be an array of group names');
  const auditFindings = validateAuditFindings(d.audit_findings ?? []);
  const risk: Risk = d.risk;
  // The contract's floor: nothing above LOW may pass without at least one approval, CRITICAL without two.
  const minApprovals = risk === 'LOW' ? 0 : risk === 'CRITICAL' ? 2 : 1;
  return {
    risk,
    reasons: d.reasons,
    approvals: Math.max(d.approvals, minApprovals),
    override_required: d.override_required || risk === 'CRITICAL',
    dry_run_first: d.dry_run_first,
    deny: d.deny,
    approvals_from: [...new Set(approvalsFrom)].sort(),
    audit_findings: auditFindings,
    policy,
  };
}

function validateAuditFindings(raw: unknown): AuditFinding[] {
  if (!Array.isArray(raw)) throw new PolicyError('policy decision: audit_findings must be an array');
  return raw.map((f: unknown) => {
    const o = (f ?? {}) as Record<string, unknown>;
    if (typeof o.rule !== 'string' || !isRisk(o.risk) || typeof o.reason !== 'string')
      throw new PolicyError('policy decision: each audit finding needs rule, risk and reason');
    return { rule: o.rule, risk: o.risk, reason: o.reason };
  });
}

const RANK: Record<Risk, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** What audit-mode rules would have changed: the risk they would have raised it to, and which rules. */
export function wouldHave(d: Decision): { risk: Risk; rules: string[] } | undefined {
  const above = d.audit_findings.filter((f) => RANK[f.risk] > RANK[d.risk]);
  if (!above.length) return undefined;
  const risk = above.reduce<Risk>((r, f) => (RANK[f.risk] > RANK[r] ? f.risk : r), d.risk);
  return { risk, rules: [...new Set(above.map((f) => f.rule))].sort() };
}
