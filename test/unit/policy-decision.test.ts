import { describe, expect, it } from 'vitest';
import { noteAuditMode } from '../../src/chain/audit-mode.js';
import type { RequestFacts } from '../../src/chain/context.js';
import { parseConfig } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import { validateDecision, wouldHave } from '../../src/policy/decision.js';

const base = {
  risk: 'LOW',
  reasons: [],
  approvals: 0,
  override_required: false,
  dry_run_first: false,
  deny: [],
};
const config = parseConfig({
  tls: { cert: 'c', key: 'k' },
  policy: { bundle: 'b' },
  approvers: { jwks: 'j' },
  audit: { path: 'a' },
});

describe('the decision contract: approver groups and audit-mode findings', () => {
  it('both are optional, and sorted, deduplicated when given', () => {
    expect(validateDecision(base, 'v')).toMatchObject({ approvals_from: [], audit_findings: [] });
    expect(
      validateDecision({ ...base, approvals_from: ['sre', 'security', 'sre'] }, 'v').approvals_from,
    ).toEqual(['security', 'sre']);
  });

  it('a malformed one is a policy error (the gate refuses), never ignored', () => {
    expect(() => validateDecision({ ...base, approvals_from: 'sre' }, 'v')).toThrow(/approvals_from/);
    expect(() => validateDecision({ ...base, approvals_from: [''] }, 'v')).toThrow(/approvals_from/);
    expect(() =>
      validateDecision({ ...base, audit_findings: [{ rule: 'x', risk: 'SEVERE', reason: '' }] }, 'v'),
    ).toThrow(/audit finding/);
  });

  it('audit findings never change the enforced risk; wouldHave says what they would have done', () => {
    const d = validateDecision(
      {
        ...base,
        audit_findings: [
          { rule: 'net.new', risk: 'HIGH', reason: 'r' },
          { rule: 'net.low', risk: 'LOW', reason: 'r' },
          { rule: 'x.crit', risk: 'CRITICAL', reason: 'r' },
        ],
      },
      'v',
    );
    expect(d.risk).toBe('LOW');
    expect(d.approvals).toBe(0);
    expect(wouldHave(d)).toEqual({ risk: 'CRITICAL', rules: ['net.new', 'x.crit'] });
    expect(wouldHave({ ...d, risk: 'CRITICAL' })).toBeUndefined();
  });
});

describe('recording audit-mode findings', () => {
  const finding = { rule: 'network.egress', risk: 'HIGH' as const, reason: 'egress' };

  it('a LOW change an audit rule would raise is marked would_hold and counted', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const facts: RequestFacts = { request_id: 'r', cluster: 'kubegate', action: 'a', resource: 'x' };
    const d = validateDecision({ ...base, audit_findings: [finding] }, 'v');
    noteAuditMode(d, config, metrics, facts);
    expect(facts).toMatchObject({ would_risk: 'HIGH', would_hold: true, audit_rules: ['network.egress'] });
    expect(await metrics.render()).toMatch(
      /kubegate_policy_audit_mode_total\{rule="network.egress",would="hold"\} 1/,
    );
  });

  it('a change held anyway is only "raised"', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const facts: RequestFacts = { request_id: 'r', cluster: 'kubegate', action: 'a', resource: 'x' };
    noteAuditMode(
      validateDecision({ ...base, risk: 'MEDIUM', audit_findings: [finding] }, 'v'),
      config,
      metrics,
      facts,
    );
    expect(facts.would_hold).toBe(false);
    expect(await metrics.render()).toMatch(/would="raise"\} 1/);
  });

  it('nothing is added when the audit rules agree with the enforced ones', () => {
    const facts: RequestFacts = { request_id: 'r', cluster: 'kubegate', action: 'a', resource: 'x' };
    const d = validateDecision({ ...base, risk: 'HIGH', approvals: 1, audit_findings: [finding] }, 'v');
    noteAuditMode(d, config, createMetrics({ defaultMetrics: false }), facts);
    expect(Object.keys(facts)).toEqual(['request_id', 'cluster', 'action', 'resource']);
  });
});
