import { owns, type Requester } from '../api/requester.js';
import type { ApprovalService } from '../approval/service.js';
import { buildResourceRequest } from '../kube/build.js';
import { fetchLive } from '../kube/live.js';
import { asStatusError, forbidden, StatusError } from '../kube/status.js';
import type { Expectation, PlanStep, PlanView, StepStatus } from '../wire/plan-view.js';
import { recordPlan, rollbackCommand } from './audit.js';
import { requesterOn } from './callers.js';
import { type CheckResult, type ClusterReader, clusterReader, runChecks, waitForChecks } from './checks.js';
import type { StepRequest } from './steps.js';
import { objectKey } from './steps.js';
import { expectationOf, type PlanDeps, stepContext } from './submit.js';

export interface RunDeps extends PlanDeps {
  approvals: ApprovalService;
  /** How long a step's checks may take to pass. */
  stepTimeoutMs: number;
}

type Obj = Record<string, unknown>;
const WORKLOADS = new Set(['deployments', 'statefulsets', 'daemonsets', 'replicasets']);

/** Whether every step has the approvals the whole plan needs (bound to this plan, still live). */
export async function planApproved(d: RunDeps, plan: PlanView): Promise<{ ok: boolean; why: string }> {
  const need = {
    approvals: plan.approvals_required,
    override_required: plan.override_required,
    approvals_from: plan.approvals_from ?? [],
  };
  if (need.approvals === 0 && !need.override_required && !need.approvals_from.length)
    return { ok: true, why: '' };
  for (const s of plan.steps) {
    const { verdict } = await d.approvals.count(s.fingerprint, need, plan.requester, undefined, plan.id);
    if (!verdict.ok) return { ok: false, why: verdict.why };
  }
  return { ok: true, why: '' };
}

export const approveCommand = (p: PlanView) =>
  `approve-cli approve ${p.id}${p.override_required ? ' --override --reason TEXT (two different approvers)' : ''}`;

/** Starts an approved plan's run as its requester; the steps run in the background. */
export async function startRun(d: RunDeps, id: string, caller: Requester): Promise<PlanView> {
  const plan = await d.store.getPlan(id);
  if (!plan) throw new StatusError(404, 'NotFound', `no plan ${id}`);
  if (!owns(caller, plan.requester, plan.cluster))
    throw forbidden(`${id} was proposed by ${plan.requester}: only they run it (with their own credentials)`);
  if (plan.status === 'pending') {
    const { why } = await planApproved(d, plan);
    throw forbidden(
      `${id} is not approved yet: ${why || 'waiting for approval'}. Approve with \`${approveCommand(plan)}\``,
    );
  }
  if (plan.status !== 'approved')
    throw new StatusError(409, 'Conflict', `${id} is ${plan.status}: it cannot run`);
  const approved = await planApproved(d, plan);
  if (!approved.ok)
    throw forbidden(`${id}'s approvals no longer suffice (${approved.why}); approve it again`);
  let won = false;
  const running = await d.store.updatePlan(id, (p) => {
    won = p.status === 'approved'; // set on every attempt: a lost compare-and-swap is retried
    return won ? { ...p, status: 'running', updatedAt: Date.now() } : undefined;
  });
  if (!won || !running) throw new StatusError(409, 'Conflict', `${id} was started by another call`);
  await recordPlan(d.log, running, 'plan_started', { status: 'running' });
  void runSteps(d, running, caller).catch((err: unknown) => {
    d.logger.error({ err: (err as Error).message, plan: id }, 'plan run ended with an internal error');
    void finish(d, running, 'failed', `internal error: ${(err as Error).message}`).catch(() => undefined);
  });
  return running;
}

async function setStep(
  d: RunDeps,
  id: string,
  index: number,
  status: StepStatus,
  extra: Partial<PlanStep> = {},
) {
  return d.store.updatePlan(id, (p) => ({
    ...p,
    updatedAt: Date.now(),
    steps: p.steps.map((s) => (s.index === index ? { ...s, ...extra, status } : s)),
  }));
}

/** The end of a run: status, the record, and what to do next when it did not succeed. */
async function finish(
  d: RunDeps,
  plan: PlanView,
  status: 'succeeded' | 'failed' | 'stopped',
  message: string,
) {
  const ran =
    (await d.store.getPlan(plan.id))?.steps.filter((s) => s.status === 'done').map((s) => s.index) ?? [];
  const hint =
    status !== 'succeeded' && ran.length
      ? `; undo steps ${ran.join(', ')} with \`${rollbackCommand(plan.id)}\``
      : '';
  const text = `${message}${hint}`;
  await d.store.updatePlan(plan.id, (p) => ({
    ...p,
    status,
    message: text,
    updatedAt: Date.now(),
    steps: p.steps.map((s) => (s.status === 'waiting' ? { ...s, status: 'skipped' } : s)),
  }));
  await recordPlan(d.log, plan, 'plan_finished', {
    status,
    message: text,
    steps_run: ran,
    ...(status !== 'succeeded' && ran.length ? { rollback: rollbackCommand(plan.id) } : {}),
  });
}

/** The step's request as approved (its detail is what the fingerprint covers). */
function requestOf(s: PlanStep): StepRequest {
  const d = s.detail;
  return { ...d, verb: d.verb as StepRequest['verb'], body: d.body, summary: s.summary };
}

/** The live object differs from what was approved (or what the plan's own earlier step left). */
function drift(expect: Expectation, now: Expectation): string | undefined {
  if (expect.exists !== now.exists)
    return expect.exists
      ? 'it was deleted since the plan was approved'
      : 'it was created since the plan was approved';
  if (expect.uid !== now.uid) return 'it was deleted and re-created since the plan was approved';
  if (expect.version !== now.version)
    return `it changed since the plan was approved (${expect.version} → ${now.version})`;
  return undefined;
}

async function liveOf(s: PlanStep, caller: Requester): Promise<Obj | null> {
  return fetchLive(caller.cluster.upstream, buildResourceRequest(requestOf(s)), caller.credentials);
}

/** A workload's controller has seen its new spec (so the checks read the new state). */
async function settle(s: PlanStep, caller: Requester): Promise<void> {
  if (!WORKLOADS.has(s.detail.resource) || s.detail.verb === 'delete') return;
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const o = await liveOf(s, caller);
    const gen = (o?.metadata as { generation?: number } | undefined)?.generation ?? 0;
    const seen = (o?.status as { observedGeneration?: number } | undefined)?.observedGeneration ?? 0;
    if (!o || seen >= gen) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** One step through the chain as the requester: the outcome's message when it did not succeed. */
async function runStep(d: RunDeps, plan: PlanView, s: PlanStep, caller: Requester) {
  const ctx = stepContext(requestOf(s), caller, plan.id, s.index, false);
  try {
    const o = await d.handle(ctx, { kind: 'call' });
    const ok = o.status >= 200 && o.status < 300;
    const msg = (o.body as { message?: string } | null)?.message ?? o.error ?? `HTTP ${o.status}`;
    return { requestId: ctx.facts.request_id, error: ok ? undefined : msg };
  } catch (err) {
    return { requestId: ctx.facts.request_id, error: asStatusError(err).message };
  }
}

const failed = (rs: CheckResult[]) =>
  rs
    .filter((r) => !r.ok)
    .map((r) => `${r.check}: expected ${r.expected}, observed ${r.observed}`)
    .join('; ');

async function stopRequested(d: RunDeps, id: string) {
  return (await d.store.getPlan(id))?.stopRequested;
}

/** The steps in order, each checked before the next; the first failure or a stop ends the run. */
async function runSteps(d: RunDeps, plan: PlanView, caller: Requester): Promise<void> {
  // the final checks read the cluster the plan came through; each step's checks, its own cluster
  const read = clusterReader(caller.cluster.upstream, caller.credentials);
  const expected = new Map<string, Expectation>();
  for (const s of plan.steps) {
    const stop = await stopRequested(d, plan.id);
    if (stop) return finish(d, plan, 'stopped', `stopped by ${stop.by} before step ${s.index}`);
    let as: Requester;
    try {
      as = await requesterOn(d.clusters, caller, s.detail.cluster);
    } catch (err) {
      return finish(d, plan, 'failed', `step ${s.index} (${s.summary}): ${asStatusError(err).message}`);
    }
    const error = await oneStep(d, plan, s, as, {
      read: clusterReader(as.cluster.upstream, as.credentials),
      expected,
    });
    if (error) return finish(d, plan, 'failed', `step ${s.index} (${s.summary}) failed: ${error}`);
  }
  const results = await runChecks(plan.checks, read);
  const bad = failed(results);
  await recordPlan(d.log, plan, bad ? 'validation_failed' : 'validated', {
    status: bad ? 'failed' : 'success',
    checks: results,
    ...(bad ? { rollback: rollbackCommand(plan.id) } : {}),
  });
  if (bad) return finish(d, plan, 'failed', `final checks failed: ${bad}`);
  await finish(d, plan, 'succeeded', `all ${plan.steps.length} steps ran and the checks passed`);
  if (plan.monitorSeconds) await monitor(d, plan, read);
}

async function oneStep(
  d: RunDeps,
  plan: PlanView,
  s: PlanStep,
  caller: Requester,
  run: { read: ClusterReader; expected: Map<string, Expectation> },
): Promise<string | undefined> {
  await setStep(d, plan.id, s.index, 'running');
  const key = objectKey(s.detail);
  const now = expectationOf(await liveOf(s, caller));
  const moved = drift(run.expected.get(key) ?? s.expect, now);
  const fail = async (message: string, requestId?: string) => {
    await setStep(d, plan.id, s.index, 'failed', { message, ...(requestId ? { requestId } : {}) });
    await recordPlan(d.log, plan, 'plan_step', {
      step: s.index,
      status: 'failed',
      message,
      ...(requestId ? { request_id: requestId } : {}),
    });
    return message;
  };
  if (moved) return fail(`drift: ${s.target}: ${moved}`);
  const { requestId, error } = await runStep(d, plan, s, caller);
  if (error) return fail(error, requestId);
  await settle(s, caller);
  const timeoutMs = s.timeoutSeconds ? s.timeoutSeconds * 1000 : d.stepTimeoutMs;
  const results = await waitForChecks(s.checks, run.read, { timeoutMs });
  if (results.some((r) => !r.ok)) return fail(`checks failed: ${failed(results)}`, requestId);
  run.expected.set(key, expectationOf(await liveOf(s, caller)));
  await setStep(d, plan.id, s.index, 'done', { requestId, message: 'done' });
  await recordPlan(d.log, plan, 'plan_step', {
    step: s.index,
    status: 'success',
    request_id: requestId,
    checks: results,
  });
  return undefined;
}

/** After a successful run: the final checks again for `monitor` seconds; a regression is recorded once. */
async function monitor(d: RunDeps, plan: PlanView, read: ClusterReader): Promise<void> {
  const until = Date.now() + (plan.monitorSeconds ?? 0) * 1000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(5000, Math.max(0, until - Date.now()))));
    const results = await runChecks(plan.checks, read);
    const bad = failed(results);
    if (bad) {
      await recordPlan(d.log, plan, 'monitor_regression', {
        status: 'failed',
        checks: results,
        rollback: rollbackCommand(plan.id),
      });
      await d.store.updatePlan(plan.id, (p) => ({
        ...p,
        message: `regressed while monitored: ${bad}; undo with \`${rollbackCommand(plan.id)}\``,
        updatedAt: Date.now(),
      }));
      return;
    }
  }
}

/** `plan stop`: a running plan finishes its current step and skips the rest; a held one is cancelled. */
export async function stopPlan(d: RunDeps, id: string, by: string): Promise<PlanView> {
  let did: 'stop' | 'cancel' | undefined;
  const after = await d.store.updatePlan(id, (p) => {
    did = undefined; // set on every attempt: a lost compare-and-swap is retried
    const at = Date.now();
    if (p.status === 'running' && !p.stopRequested) did = 'stop';
    if (p.status === 'pending' || p.status === 'approved') did = 'cancel';
    if (did === 'stop') return { ...p, stopRequested: { by, at }, updatedAt: at };
    if (did === 'cancel') return { ...p, status: 'cancelled', message: `cancelled by ${by}`, updatedAt: at };
    return undefined;
  });
  if (!after) throw new StatusError(404, 'NotFound', `no plan ${id}`);
  if (did === 'cancel') {
    await d.approvals.withdrawPlan(after.steps.map((s) => s.fingerprint));
    await recordPlan(d.log, after, 'plan_finished', { status: 'cancelled', message: after.message });
  } else if (did === 'stop') await recordPlan(d.log, after, 'plan_stop_requested', { by });
  else if (after.status !== 'running')
    throw new StatusError(409, 'Conflict', `${id} is ${after.status}: nothing to stop`);
  return after;
}
