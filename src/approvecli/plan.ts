import { type PlanStep, type PlanView, planClusters } from '../wire/plan-view.js';
import { printable as t } from '../wire/printable.js';
import { describeChange } from './change.js';
import { describeAction } from './describe.js';
import { dryRunLines } from './dryrun.js';
import { CliError } from './errors.js';
import { withoutSecretValues } from './secret-values.js';
import type { PendingView } from './types.js';
import { verifyFingerprint } from './verify.js';

/** A plan step seen as the one request it is, so its fingerprint is recomputed like any request's. */
function stepView(p: PlanView, s: PlanStep): PendingView {
  return {
    id: `${p.id} step ${s.index}`,
    fingerprint: s.fingerprint,
    status: 'pending',
    requester: p.requester,
    risk: s.risk,
    reasons: s.reasons,
    target: s.target,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    detail: s.detail,
    approvals: [],
    conflicts: [],
  } as PendingView;
}

/**
 * Every step's fingerprint recomputed from what kubegate shows; the list, in order, is what an
 * approval of the plan signs. A mismatch anywhere refuses the whole plan.
 */
export function verifyPlan(p: PlanView, id: string): string[] {
  if (p.id !== id)
    throw new CliError(`asked kubegate for ${id} but it answered with ${p.id}; refusing to go on`);
  if (!Array.isArray(p.steps) || !p.steps.length) throw new CliError(`${id} has no steps to approve`);
  return p.steps.map((s) => verifyFingerprint(stepView(p, s)));
}

function stepLines(s: PlanStep): string[] {
  const d = s.detail;
  const out = [
    '',
    `step ${s.index}: ${t(s.summary)}   [${s.status}]`,
    `  risk:   ${t(s.risk)}${s.reasons.length ? ` (${t(s.reasons.join('; '))})` : ''}`,
    `  action: ${describeAction(d)}`,
  ];
  const change = describeChange(withoutSecretValues(d));
  out.push(`  change: ${change.title}`, ...change.lines.map((l) => `    ${l}`));
  for (const n of change.notes) out.push(`    note: ${n}`);
  if (s.dryRun !== null)
    out.push(
      ...dryRunLines(d, {
        available: true,
        status: 200,
        object: s.dryRun,
        source: 'the dry run kubegate ran as the requester when the plan was submitted',
      }).map((l) => `  ${l}`),
    );
  else
    out.push(`  dry run: NONE (${t(s.dryRunNote ?? 'not available')}): what it results in cannot be shown`);
  out.push(`  rollback: ${t(s.rollback.join('; '))}`);
  for (const c of s.checks) out.push(`  check:  ${JSON.stringify(c)}`);
  if (s.message && s.status !== 'done') out.push(`  message: ${t(s.message)}`);
  return out;
}

/** `approve-cli show plan-…`: the whole plan, every step with its diff, dry run and rollback. */
export function renderPlanShow(p: PlanView & { needs?: string }, fingerprints: string[]): string {
  const out = [
    `${t(p.id)}   ${t(p.status)}   "${t(p.title)}"`,
    `requester:   ${t(p.requester)}`,
    `why:         ${t(p.why, true).replaceAll('\n', '\n             ')}`,
    `risk:        ${p.risk} (the riskiest step)`,
    `needs:       ${p.approvals_required} approval${p.approvals_required === 1 ? '' : 's'}${p.override_required ? ' from different approvers, with an override (a step is CRITICAL)' : ''}${p.needs ? ` — now: ${t(p.needs)}` : ''}`,
  ];
  if (p.approvals_from?.length)
    out.push(`groups:      one approver from each of ${p.approvals_from.join(', ')}`);
  if (p.estimate) out.push(`estimate:    ${t(p.estimate)}`);
  if (p.monitorSeconds) out.push(`monitor:     ${p.monitorSeconds}s after the run`);
  if (p.rollbackOf)
    out.push(`rolls back:  ${p.rollbackOf} (proposed by ${p.proposedBy}, who cannot approve it)`);
  out.push(
    `approvals:   ${p.approvals.map((a) => `${a.approver}${a.override ? ' (override)' : ''}`).join(', ') || 'none yet'}`,
  );
  out.push(`fingerprints (recomputed here: all ${fingerprints.length} match; an approval signs this list):`);
  out.push(...fingerprints.map((f, i) => `  ${i + 1}. ${f}`));
  for (const s of p.steps) out.push(...stepLines(s));
  if (p.checks.length) out.push('', 'final checks:', ...p.checks.map((c) => `  ${JSON.stringify(c)}`));
  if (p.rollback?.length)
    out.push(
      '',
      "the plan's own rollback steps (proposed as written if an approver asks for the rollback, then approved on their own):",
      ...p.rollback.map((r, i) => `  ${i + 1}. ${t(JSON.stringify(r))}`),
    );
  if (p.message) out.push('', `message: ${t(p.message)}`);
  return `${out.join('\n')}\n`;
}

/** `approve-cli list`: plans beside the requests, the ones still to decide or running. */
export function renderPlanList(plans: PlanView[]): string {
  const open = plans.filter((p) => ['pending', 'approved', 'running'].includes(p.status));
  if (!open.length) return '';
  const rows = open.map(
    (p) =>
      `${p.id}  ${p.status.padEnd(8)} ${p.risk.padEnd(8)} ${p.requester.padEnd(12)} ${planClusters(p).join(',').padEnd(10)} ${p.steps.length} step${p.steps.length === 1 ? '' : 's'}  "${p.title}"`,
  );
  return `\nplans:\n${rows.map((r) => `  ${r}`).join('\n')}\n`;
}
