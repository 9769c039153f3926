import type { PlanView } from '../wire/plan-view.js';
import { printable } from '../wire/printable.js';

/** What a plan still needs, or what to do next, in the words the CLIs use. */
export function nextStep(p: PlanView & { needs?: string }): string {
  switch (p.status) {
    case 'pending':
      return `needs approval (${p.needs ?? `${p.approvals_required} approval(s)`}): approve-cli show ${p.id}; approve-cli approve ${p.id}${p.override_required ? ' --override --reason TEXT (two different approvers)' : ''}`;
    case 'approved':
      return `approved: run it with \`kubegate plan run ${p.id}\``;
    case 'running':
      return p.stopRequested ? `stopping (asked by ${p.stopRequested.by})` : 'running';
    default:
      return p.message ?? p.status;
  }
}

/** A plan as text: its header, each step with risk and status, and what comes next. */
export function renderPlan(p: PlanView & { needs?: string }): string {
  const lines = [
    `${p.id}  ${p.status.toUpperCase()}  ${p.risk} risk  "${p.title}"`,
    `  requested by ${p.requester}${p.estimate ? `, estimated ${p.estimate}` : ''}${p.rollbackOf ? `, rollback of ${p.rollbackOf} (proposed by ${p.proposedBy})` : ''}`,
    `  why: ${p.why}`,
  ];
  for (const s of p.steps) {
    lines.push(
      `  ${String(s.index).padStart(2)}. [${s.status}] ${s.summary}  ${s.risk}${s.reasons.length ? ` (${s.reasons.join('; ')})` : ''}`,
    );
    if (s.message && s.status !== 'done') lines.push(`      ${s.message}`);
  }
  if (p.approvals.length)
    lines.push(
      `  approved by ${p.approvals.map((a) => `${a.approver}${a.override ? ' (override)' : ''}`).join(', ')}`,
    );
  lines.push(`  ${nextStep(p)}`);
  return `${printable(lines.join('\n'), true)}\n`;
}

export const EXAMPLE_PLAN = `# A kubegate plan: proposed before anything runs, approved whole, run step by step.
#   kubegate plan submit plan.yaml     # dry-runs and decides every step, holds the plan
#   approve-cli show plan-…            # an approver sees every step, its diff and rollback
#   approve-cli approve plan-…         # one signature over all the steps
#   kubegate plan run plan-…           # runs the steps in order, checking each; stops at the first failure
title: Configure and run the demo web app
why: The demo app needs its greeting in a ConfigMap, and two replicas.
estimate: 1m
steps:
  - name: greeting
    apply:                              # server-side apply of a whole object
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: plan-demo, namespace: default}
      data: {greeting: hello}
    checks:
      - exists: {apiVersion: v1, kind: ConfigMap, namespace: default, name: plan-demo}
  - name: the app, two replicas
    apply:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: plan-demo, namespace: default}
      spec:
        replicas: 2
        selector: {matchLabels: {app: plan-demo}}
        template:
          metadata: {labels: {app: plan-demo}}
          spec: {containers: [{name: web, image: nginx:1.27}]}
    checks:
      - equals: {apiVersion: apps/v1, kind: Deployment, namespace: default, name: plan-demo, field: spec.replicas, value: 2}
  # A step on an object an earlier step creates has no dry run until then: approvers see the
  # change but not its result, and approve-cli asks for --blind.
  # other step kinds:
  #   scale:   {apiVersion: apps/v1, kind: Deployment, namespace, name, replicas: N}
  #   patch:   {apiVersion, kind, namespace, name, type: merge|strategic|json, patch: {...}}
  #   delete:  {apiVersion, kind, namespace, name}
  #   restart: {apiVersion: apps/v1, kind: Deployment, namespace, name}   # kubectl rollout restart
checks:                                 # after the last step; recorded as validated / validation_failed
  - equals: {apiVersion: v1, kind: ConfigMap, namespace: default, name: plan-demo, field: data.greeting, value: hello}
  - noCrashLoop: {namespace: default, selector: app=plan-demo}
# monitor: 2m                           # re-check the final checks this long after the run
# other checks: available: {apiVersion: apps/v1, kind: Deployment, namespace, name, replicas: N}
#               absent: {apiVersion, kind, namespace, name}
`;
