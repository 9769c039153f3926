import type { Requester } from '../api/requester.js';
import { ApprovalError } from '../approval/token.js';
import { actAs } from '../kube/act-as.js';
import { buildResourceRequest } from '../kube/build.js';
import { fetchLive } from '../kube/live.js';
import { StatusError } from '../kube/status.js';
import { planUndo, UndoError } from '../rollback/undo.js';
import { type PlanView, planClusters, planFingerprints } from '../wire/plan-view.js';
import { recordPlan } from './audit.js';
import { requesterOn } from './callers.js';
import type { PlanDoc } from './format.js';
import { planApproved, type RunDeps, stopPlan } from './run.js';
import type { StepRequest } from './steps.js';
import { submitPlan } from './submit.js';

type Obj = Record<string, unknown>;

async function planOrThrow(d: RunDeps, id: string): Promise<PlanView> {
  const plan = await d.store.getPlan(id);
  if (!plan) throw new ApprovalError(`no plan ${id}`, 'not-found');
  return plan;
}

/** One approver's approval of a whole plan; the plan is approved once every step has enough. */
export async function approvePlan(d: RunDeps, id: string, token: unknown): Promise<PlanView> {
  const plan = await planOrThrow(d, id);
  if (plan.status !== 'pending' && plan.status !== 'approved')
    throw new ApprovalError(`${id} is ${plan.status}, not waiting for approval`, 'conflict');
  const v = await d.approvals.approvePlan(token, {
    id,
    requester: plan.requester,
    fingerprints: planFingerprints(plan),
    clusters: planClusters(plan),
    ...(plan.proposedBy ? { proposedBy: plan.proposedBy } : {}),
    groups: plan.approvals_from ?? [],
  });
  await recordPlan(d.log, plan, 'plan_approved', {
    approver: v.approver,
    status: 'approved',
    override: !!v.override,
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.blind ? { blind: true } : {}),
    fingerprints: v.fingerprints,
  });
  const ready = (await planApproved(d, plan)).ok;
  const approval = {
    approver: v.approver,
    override: !!v.override,
    at: Date.now(),
    ...(v.reason ? { reason: v.reason } : {}),
  };
  const after = await d.store.updatePlan(id, (p) => ({
    ...p,
    approvals: [...p.approvals, approval],
    status: ready && p.status === 'pending' ? 'approved' : p.status,
    updatedAt: Date.now(),
  }));
  return after ?? plan;
}

/** A reject token naming the plan: a held plan is rejected; a running one stops after its current step. */
export async function rejectPlan(d: RunDeps, id: string, token: unknown): Promise<PlanView> {
  const v = await d.approvals.verify(token, 'reject');
  if (!v.requestIds?.includes(id)) throw new ApprovalError('token does not name this plan', 'mismatch');
  if (!(await d.store.useJti(v.jti, v.exp)))
    throw new ApprovalError('token was already used (replay)', 'replayed');
  const plan = await planOrThrow(d, id);
  if (plan.status === 'running') return stopPlan(d, id, v.approver);
  const reason = v.reason ?? 'no reason given';
  let won = false;
  const after = await d.store.updatePlan(id, (p) => {
    won = p.status === 'pending' || p.status === 'approved';
    return won
      ? { ...p, status: 'rejected', message: `rejected by ${v.approver}: ${reason}`, updatedAt: Date.now() }
      : undefined;
  });
  if (!won || !after)
    throw new ApprovalError(`${id} is ${plan.status}, not waiting for approval`, 'conflict');
  await d.approvals.withdrawPlan(planFingerprints(plan));
  await recordPlan(d.log, plan, 'plan_rejected', { approver: v.approver, status: 'rejected', reason });
  return after;
}

/** The undo of one step that ran, planned against the object as it is now (read as the requester). */
async function undoOf(
  d: RunDeps,
  plan: PlanView,
  requestId: string,
  as: Requester,
): Promise<StepRequest | undefined> {
  const snap = await d.store.getSnapshot(requestId);
  if (!snap?.executed) return undefined;
  const det = snap.detail;
  const created = (snap.after as { metadata?: { name?: string } } | null)?.metadata?.name;
  const name = det.name || created || '';
  const parent = buildResourceRequest({
    ...det,
    name,
    verb: 'patch',
    subresource: '',
    query: {},
    contentType: '',
  });
  // the undo of a step is planned on, and runs on, the step's cluster
  const on = await requesterOn(d.clusters, as, det.cluster ?? as.cluster.name);
  const current = await fetchLive(on.cluster.upstream, parent, on.credentials);
  const verb = snap.before === null && det.verb === 'patch' ? 'create' : det.verb;
  try {
    const u = planUndo(
      { ...det, verb, name, before: snap.before as Obj | null, after: (snap.after ?? null) as Obj | null },
      current,
    );
    return { ...u, cluster: on.cluster.name, query: {}, summary: `undo of ${plan.id} step: ${u.effect}` };
  } catch (err) {
    if (err instanceof UndoError) throw new StatusError(409, 'Conflict', err.message);
    throw err;
  }
}

/**
 * `approve-cli rollback plan-…`: the undo of the steps that ran, in reverse order (or the plan's
 * own rollback steps), as a new plan of the same requester, held for an approver other than
 * the one who asked.
 */
export async function proposePlanRollback(d: RunDeps, id: string, token: unknown): Promise<PlanView> {
  const v = await d.approvals.verify(token, 'rollback');
  if (!v.requestIds?.includes(id)) throw new ApprovalError('token does not name this plan', 'mismatch');
  if (!(await d.store.useJti(v.jti, v.exp)))
    throw new ApprovalError('token was already used (replay)', 'replayed');
  const plan = await planOrThrow(d, id);
  // a step whose checks failed after it ran changed the cluster too
  const ran = plan.steps.filter((s) => s.requestId && (s.status === 'done' || s.status === 'failed'));
  if (!ran.length) throw new StatusError(409, 'Conflict', `no step of ${id} ran: there is nothing to undo`);
  const home = d.clusters.of(plan.cluster);
  const own = home.upstream.ownAuthorization();
  if (!own)
    throw new StatusError(409, 'Conflict', 'kubegate has no credentials of its own to plan a rollback');
  const groups = plan.requesterGroups ?? [];
  const as: Requester = {
    user: { username: plan.requester, uid: '', groups, extra: {} },
    credentials: actAs(own, plan.requester, groups),
    cluster: home,
    actingAs: { username: plan.requester, groups },
  };
  const doc: PlanDoc = {
    title: `rollback of ${id}: ${plan.title}`.slice(0, 200),
    why: plan.rollback
      ? `the rollback steps ${plan.requester} wrote into ${id}, as written (asked for by ${v.approver}): check them as a change of their own`
      : `undo what ${id} ran (asked for by ${v.approver})`,
    steps: (plan.rollback as PlanDoc['steps'] | undefined) ?? [],
    checks: [],
  };
  const built: StepRequest[] = [];
  for (const s of plan.rollback ? [] : [...ran].reverse()) {
    const undo = await undoOf(d, plan, s.requestId!, as);
    if (undo) built.push(undo);
    else if (s.status === 'done')
      throw new StatusError(409, 'Conflict', `step ${s.index} of ${id} has no rollback snapshot`);
  }
  if (!plan.rollback && !built.length)
    throw new StatusError(409, 'Conflict', `no change of ${id} ran: there is nothing to undo`);
  return submitPlan(
    d,
    doc,
    as,
    { rollbackOf: id, proposedBy: v.approver },
    plan.rollback ? undefined : built,
  );
}
