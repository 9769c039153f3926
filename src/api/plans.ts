import type express from 'express';
import { redact } from '../audit/redact.js';
import { StatusError } from '../kube/status.js';
import { approvePlan, proposePlanRollback, rejectPlan } from '../plan/review.js';
import { planApproved } from '../plan/run.js';
import type { PlanView } from '../wire/plan-view.js';
import { type ApiDeps, bearer, route } from './app.js';

/** What anyone reading a plan sees: live objects and dry-run results redacted like the audit log. */
export function planForReaders(p: PlanView): PlanView {
  return {
    ...p,
    steps: p.steps.map((s) => ({
      ...s,
      dryRun: redact(s.dryRun, s.target),
      detail: { ...s.detail, oldObject: redact(s.detail.oldObject, s.target) },
    })),
  };
}

/** A plan in a list: its steps named, without bodies or objects. */
export function planListed(p: PlanView) {
  return {
    ...p,
    // a listed step keeps only the cluster of the request it makes
    steps: p.steps.map(({ detail, dryRun: _r, ...s }) => ({ ...s, detail: { cluster: detail.cluster } })),
  };
}

export async function getPlan(deps: ApiDeps, id: string): Promise<PlanView> {
  const p = await deps.store.getPlan(id);
  if (!p) throw new StatusError(404, 'NotFound', `no plan ${id}`);
  return p;
}

/** A plan with what it still needs, for people and agents deciding what to do next. */
export async function withNeeds(deps: ApiDeps, p: PlanView) {
  const needs = p.status === 'pending' ? (await planApproved(deps, p)).why : undefined;
  return { ...planForReaders(p), ...(needs ? { needs } : {}) };
}

/** Approvers: read, approve, reject, stop and roll back plans with signed tokens. */
export function planRoutes(app: express.Express, deps: ApiDeps): void {
  const { log, approvals } = deps;
  app.get(
    '/kubegate/v1/plans',
    route(log, async (req, res) => {
      await approvals.verify(bearer(req), 'read');
      res.json({ items: (await deps.store.listPlans()).map(planListed) });
    }),
  );
  app.get(
    '/kubegate/v1/plans/:id',
    route(log, async (req, res) => {
      await approvals.verify(bearer(req), 'read');
      res.json(await withNeeds(deps, await getPlan(deps, String(req.params.id))));
    }),
  );
  const action = (name: string, act: (id: string, token: unknown) => Promise<PlanView>, code = 200) =>
    app.post(
      `/kubegate/v1/plans/:id/${name}`,
      route(log, async (req, res) => {
        res.status(code).json(await withNeeds(deps, await act(String(req.params.id), req.body?.token)));
      }),
    );
  action('approve', (id, t) => approvePlan(deps, id, t));
  action('reject', (id, t) => rejectPlan(deps, id, t));
  action('stop', (id, t) => rejectPlan(deps, id, t));
  action('rollback', (id, t) => proposePlanRollback(deps, id, t), 201);
}
