import type { Logger } from 'pino';
import type { Requester } from '../api/requester.js';
import { recentRejection } from '../approval/rejections.js';
import type { AuditLog } from '../audit/log.js';
import type { Target } from '../chain/chain.js';
import { newContext, type RequestContext, targetOf } from '../chain/context.js';
import type { Outcome } from '../chain/forward.js';
import type { Clusters } from '../clusters.js';
import { buildResourceRequest } from '../kube/build.js';
import { asStatusError, forbidden, StatusError } from '../kube/status.js';
import { planUndo } from '../rollback/undo.js';
import { pendingDetail, type StateStore } from '../state/store.js';
import type { Expectation, PlanCheck, PlanStep, PlanView } from '../wire/plan-view.js';
import { RISKS } from '../wire/risk.js';
import { recordPlan } from './audit.js';
import { requesterOn } from './callers.js';
import { discoverer } from './discovery.js';
import type { PlanDoc } from './format.js';
import { type Discover, objectKey, type StepRequest, stepRequest } from './steps.js';

export interface PlanDeps {
  handle: (ctx: RequestContext, to: Target) => Promise<Outcome>;
  store: StateStore;
  clusters: Clusters;
  log: AuditLog;
  logger: Logger;
}

type Obj = Record<string, unknown>;

/** Plans one requester may have waiting at once (held plans cost store space and approvers' attention). */
const MAX_OPEN_PLANS = 20;
/** Plans one requester may submit in a day, whatever became of them (each is kept until pruned). */
const MAX_PLANS_PER_DAY = 100;
/** What one plan may keep for approvers: its steps with their live objects and dry-run results. */
const MAX_PLAN_BYTES = 2 * 1024 * 1024;

/** The request of a step as it goes through the chain: the real one, or its server-side dry run. */
export function stepContext(
  req: StepRequest,
  caller: Requester,
  plan: string,
  index: number,
  dryRun: boolean,
) {
  const kr = buildResourceRequest({ ...req, query: dryRun ? { ...req.query, dryRun: ['All'] } : req.query });
  const ctx = newContext({
    origin: 'plan',
    cluster: caller.cluster,
    kr,
    headers: {},
    signal: new AbortController().signal,
    holdMs: 0,
  });
  // a DELETE with a body takes its dryRun from the body (the apiserver ignores the query then)
  const sent = dryRun && req.verb === 'delete' ? { ...(req.body as Obj), dryRun: ['All'] } : req.body;
  ctx.caller = { user: caller.user, credentials: caller.credentials };
  ctx.body = { object: req.body, forward: Buffer.from(JSON.stringify(sent)), fingerprintBody: req.body };
  Object.assign(ctx.facts, { user: caller.user.username, plan_id: plan, plan_step: index });
  return ctx;
}

export function expectationOf(live: Obj | null): Expectation {
  if (!live) return { exists: false };
  const md = (live.metadata ?? {}) as { uid?: string; generation?: number; resourceVersion?: string };
  const version =
    md.generation !== undefined ? `generation ${md.generation}` : `resourceVersion ${md.resourceVersion}`;
  return { exists: true, ...(md.uid ? { uid: md.uid } : {}), version };
}

/** The undo of a step as planned against its dry run: shown to approvers, planned again when asked for. */
function undoLines(req: StepRequest, live: Obj | null, dry: unknown): string[] {
  if (req.subresource === 'scale') {
    const was = ((live?.spec ?? {}) as { replicas?: unknown }).replicas;
    return [was === undefined ? 'scale back (size unknown now)' : `scale back to ${String(was)}`];
  }
  try {
    const after = dry && typeof dry === 'object' ? (dry as Obj) : null;
    const verb = live ? req.verb : req.verb === 'delete' ? 'delete' : 'create';
    return planUndo({ ...req, verb, before: live, after }, after).steps;
  } catch (err) {
    return [`planned when the rollback is asked for (${(err as Error).message})`];
  }
}

const messageOf = (o: Outcome) =>
  (o.body as { message?: string } | null)?.message ?? o.error ?? `HTTP ${o.status}`;

/** Dry-runs and decides one step as the requester; a deny or a failed dry run refuses the plan. */
async function decideStep(
  d: PlanDeps,
  req: StepRequest,
  caller: Requester,
  at: { plan: string; index: number; earlier: Set<string> },
): Promise<Omit<PlanStep, 'checks'>> {
  const ctx = stepContext(req, caller, at.plan, at.index, true);
  const outcome = await d.handle(ctx, { kind: 'call' });
  const decided = ctx.decided;
  if (!decided) throw new StatusError(500, 'InternalError', 'a plan step went through undecided');
  const ok = outcome.status >= 200 && outcome.status < 300;
  const dependsOnEarlier = outcome.status === 404 && at.earlier.has(objectKey(req));
  if (!ok && !dependsOnEarlier)
    throw new StatusError(422, 'Invalid', `the server-side dry run failed: ${messageOf(outcome)}`);
  const realKr = buildResourceRequest(req);
  const { decision, live } = decided;
  return {
    index: at.index,
    summary: req.summary,
    fingerprint: decided.fingerprint,
    risk: decision.risk,
    reasons: decision.reasons,
    target: targetOf(realKr, req.body),
    detail: pendingDetail({ ...realKr, cluster: caller.cluster.name }, req.body, live, decision),
    dryRun: ok ? outcome.body : null,
    ...(ok ? {} : { dryRunNote: 'no dry run: an earlier step of this plan creates the object' }),
    rollback: undoLines(req, live, ok ? outcome.body : null),
    expect: expectationOf(live),
    status: 'waiting',
  };
}

/** A step to decide: built from the plan file (by discovery), or already a request (an undo). */
interface StepSource {
  /** The step's cluster (default: the one the plan came through). */
  cluster?: string | undefined;
  build: (discover: Discover, at: { now: Date; requester: string }) => Promise<StepRequest>;
  checks: PlanCheck[];
  timeoutSeconds?: number | undefined;
}

function sourcesOf(doc: PlanDoc, built?: StepRequest[]): StepSource[] {
  if (built) return built.map((r) => ({ cluster: r.cluster, build: async () => r, checks: [] }));
  return doc.steps.map((s) => ({
    cluster: s.cluster,
    build: async (discover, at) => {
      const req = await stepRequest(s, discover, at);
      return s.name ? { ...req, summary: `${s.name}: ${req.summary}` } : req;
    },
    checks: s.checks,
    timeoutSeconds: s.timeout,
  }));
}

/** Every step decided in order; the first refusal names its step. */
async function decideSteps(
  d: PlanDeps,
  sources: StepSource[],
  caller: Requester,
  plan: string,
): Promise<PlanStep[]> {
  const now = new Date();
  const earlier = new Set<string>();
  const steps: PlanStep[] = [];
  let bytes = 0;
  for (const [i, src] of sources.entries()) {
    const index = i + 1;
    let req: StepRequest | undefined;
    try {
      const as = await requesterOn(d.clusters, caller, src.cluster ?? caller.cluster.name);
      const discover = discoverer(as.cluster.upstream, as.credentials);
      req = {
        ...(await src.build(discover, { now, requester: caller.user.username })),
        cluster: as.cluster.name,
      };
      const step = await decideStep(d, req, as, { plan, index, earlier });
      const twin = steps.find((o) => o.fingerprint === step.fingerprint);
      if (twin) throw new StatusError(422, 'Invalid', `it is the same request as step ${twin.index}`);
      const rejected = await recentRejection(d.store, step.fingerprint);
      if (rejected)
        throw forbidden(`it is the request ${rejected.id} that was just ${rejected.message ?? 'rejected'}`);
      bytes += Buffer.byteLength(JSON.stringify(step));
      if (bytes > MAX_PLAN_BYTES)
        throw new StatusError(
          413,
          'RequestEntityTooLarge',
          `the plan would keep more than ${MAX_PLAN_BYTES} bytes of objects for its approvers: split it`,
        );
      steps.push({
        ...step,
        checks: src.checks,
        ...(src.timeoutSeconds ? { timeoutSeconds: src.timeoutSeconds } : {}),
      });
      earlier.add(objectKey(req));
    } catch (err) {
      const e = asStatusError(err);
      throw new StatusError(e.code, e.reason, `step ${index}${req ? ` (${req.summary})` : ''}: ${e.message}`);
    }
  }
  return steps;
}

const rank = (r: string) => (RISKS as readonly string[]).indexOf(r);

/**
 * What the whole plan needs: its riskiest step's class, the most approvals any step needs. A plan
 * that changes more than one cluster is CRITICAL: the override and two different approvers.
 */
function planNeeds(steps: PlanStep[]) {
  const clusters = [...new Set(steps.map((s) => s.detail.cluster))];
  const across = clusters.length > 1;
  const risk = across ? 'CRITICAL' : steps.reduce((a, s) => (rank(s.risk) > rank(a) ? s.risk : a), 'LOW');
  return {
    risk,
    reasons: [
      ...(across
        ? [`changes ${clusters.length} clusters (${clusters.join(', ')}): a multi-cluster operation`]
        : []),
      ...steps.flatMap((s) => s.reasons.map((r) => `step ${s.index}: ${r}`)),
    ],
    approvals_required: Math.max(across ? 2 : 0, ...steps.map((s) => s.detail.approvals_required)),
    override_required: across || steps.some((s) => s.detail.override_required),
    approvals_from: [...new Set(steps.flatMap((s) => s.detail.approvals_from ?? []))].sort(),
  };
}

/** `plan-YYYYMMDD-NNN`, the next free number of the day, taken by creating the plan. */
async function reserve(store: StateStore, base: PlanView): Promise<PlanView> {
  const day = new Date(base.createdAt).toISOString().slice(0, 10).replaceAll('-', '');
  const today = (await store.listPlans()).filter((p) => p.id.startsWith(`plan-${day}-`)).length;
  for (let n = today + 1; n < today + 100; n++) {
    const plan = { ...base, id: `plan-${day}-${String(n).padStart(3, '0')}` };
    if (await store.createPlan(plan)) return plan;
  }
  throw new StatusError(409, 'Conflict', 'cannot allocate a plan id; try again');
}

/** A requester's plans are bounded: how many wait at once, how many a day. */
async function withinLimits(store: StateStore, requester: string, now: number): Promise<void> {
  const own = (await store.listPlans()).filter((p) => p.requester === requester);
  if (own.filter((p) => p.createdAt > now - 86_400_000).length >= MAX_PLANS_PER_DAY)
    throw new StatusError(
      429,
      'TooManyRequests',
      `${requester} submitted ${MAX_PLANS_PER_DAY} plans in the last 24 hours`,
    );
  const open = own.filter((p) => ['submitting', 'pending', 'approved'].includes(p.status));
  if (open.length >= MAX_OPEN_PLANS)
    throw new StatusError(
      429,
      'TooManyRequests',
      `${requester} has ${open.length} plans waiting (${open.map((p) => p.id).join(', ')}): run, stop or wait for them first`,
    );
}

/**
 * Proposes a plan before anything runs: each step dry-run server-side as the requester and
 * decided by the policy (through the one request chain), then held whole for approval.
 */
export async function submitPlan(
  d: PlanDeps,
  doc: PlanDoc,
  caller: Requester,
  o: { rollbackOf?: string; proposedBy?: string } = {},
  built?: StepRequest[],
): Promise<PlanView> {
  const now = Date.now();
  await withinLimits(d.store, caller.user.username, now);
  const plan = await reserve(d.store, {
    id: '',
    title: doc.title,
    why: doc.why,
    ...(doc.estimate ? { estimate: doc.estimate } : {}),
    ...(doc.monitor ? { monitorSeconds: doc.monitor } : {}),
    requester: caller.user.username,
    requesterGroups: caller.user.groups,
    cluster: caller.cluster.name,
    risk: 'LOW',
    reasons: [],
    approvals_required: 0,
    override_required: false,
    status: 'submitting',
    createdAt: now,
    updatedAt: now,
    steps: [],
    checks: doc.checks,
    approvals: [],
    ...(doc.rollback ? { rollback: doc.rollback } : {}),
    ...o,
  });
  try {
    const steps = await decideSteps(d, sourcesOf(doc, built), caller, plan.id);
    const needs = planNeeds(steps);
    // a rollback always needs another person's approval, whatever its steps' risk (as one does)
    if (o.rollbackOf) needs.approvals_required = Math.max(1, needs.approvals_required);
    const free = needs.approvals_required === 0 && !needs.override_required && !needs.approvals_from.length;
    const held: PlanView = {
      ...plan,
      ...needs,
      steps,
      status: free ? 'approved' : 'pending',
      updatedAt: Date.now(),
    };
    await d.store.updatePlan(plan.id, () => held);
    await recordPlan(d.log, held, 'plan_submitted', {
      status: held.status,
      steps: steps.map((s) => ({
        step: s.index,
        fingerprint: s.fingerprint,
        risk: s.risk,
        target: s.target,
      })),
      ...(o.rollbackOf ? { rollback_of: o.rollbackOf, proposed_by: o.proposedBy } : {}),
    });
    return held;
  } catch (err) {
    const message = (err as Error).message;
    await d.store.updatePlan(plan.id, (p) => ({ ...p, status: 'refused', message, updatedAt: Date.now() }));
    await recordPlan(d.log, plan, 'plan_refused', { status: 'refused', message });
    throw err;
  }
}
