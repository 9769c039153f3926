import type express from 'express';
import type { Request } from 'express';
import { redact } from '../audit/redact.js';
import { StatusError } from '../kube/status.js';
import { type PlanDoc, PlanFormatError, planFromManifests, validatePlan } from '../plan/format.js';
import { startRun, stopPlan } from '../plan/run.js';
import { submitPlan } from '../plan/submit.js';
import type { PendingStatus } from '../wire/request-view.js';
import { type ApiDeps, route } from './app.js';
import { getPlan, planForReaders, planListed, withNeeds } from './plans.js';
import { owns } from './requester.js';

const ALL_STATUSES: PendingStatus[] = [
  'pending',
  'approved',
  'rejected',
  'executed',
  'failed',
  'cancelled',
  'expired',
];

/** The plan in a submission: a plan document, or a manifest file turned into one. */
function docOf(body: unknown): PlanDoc {
  const b = (body ?? {}) as { plan?: unknown; manifests?: unknown; title?: unknown };
  try {
    if (typeof b.manifests === 'string')
      return planFromManifests(
        b.manifests,
        typeof b.title === 'string' && b.title ? b.title : 'apply manifests',
      );
    if (b.plan !== undefined) return validatePlan(b.plan);
  } catch (err) {
    if (err instanceof PlanFormatError) throw new StatusError(400, 'BadRequest', err.message);
    throw err;
  }
  throw new StatusError(400, 'BadRequest', 'send {"plan": {...}} or {"manifests": "...yaml..."}');
}

/** Requesters, with their own kube credentials: submit, read, run and stop their plans; read their requests. */
export function requesterRoutes(app: express.Express, deps: ApiDeps): void {
  const { log, identify } = deps;
  const mine = async (req: Request, id: string) => {
    const caller = await identify(req);
    const p = await getPlan(deps, id);
    if (!owns(caller, p.requester, p.cluster))
      throw new StatusError(404, 'NotFound', `no plan ${id} of yours`);
    return { caller, p };
  };
  app.post(
    '/kubegate/v1/my/plans',
    route(log, async (req, res) => {
      const caller = await identify(req);
      const doc = docOf(req.body);
      res.status(201).json(await withNeeds(deps, await submitPlan(deps, doc, caller)));
    }),
  );
  app.get(
    '/kubegate/v1/my/plans',
    route(log, async (req, res) => {
      const caller = await identify(req);
      const all = await deps.store.listPlans();
      res.json({ items: all.filter((p) => owns(caller, p.requester, p.cluster)).map(planListed) });
    }),
  );
  app.get(
    '/kubegate/v1/my/plans/:id',
    route(log, async (req, res) => {
      res.json(await withNeeds(deps, (await mine(req, String(req.params.id))).p));
    }),
  );
  app.post(
    '/kubegate/v1/my/plans/:id/run',
    route(log, async (req, res) => {
      const { caller } = await mine(req, String(req.params.id));
      res.status(202).json(planForReaders(await startRun(deps, String(req.params.id), caller)));
    }),
  );
  app.post(
    '/kubegate/v1/my/plans/:id/stop',
    route(log, async (req, res) => {
      const { caller } = await mine(req, String(req.params.id));
      res.json(planForReaders(await stopPlan(deps, String(req.params.id), caller.user.username)));
    }),
  );
}

/** A requester's own requests: what became of each (a rejection with its reason). */
export function myRequestRoutes(app: express.Express, deps: ApiDeps): void {
  const { log, identify } = deps;
  app.get(
    '/kubegate/v1/my/requests',
    route(log, async (req, res) => {
      const caller = await identify(req);
      const all = await deps.store.listPending(ALL_STATUSES);
      const own = all
        .filter((p) => owns(caller, p.requester, p.detail.cluster))
        .reverse()
        .slice(0, 200);
      res.json({
        items: own.map(({ detail: { body: _b, oldObject: _o, decoded: _d, ...rest }, ...p }) => ({
          ...p,
          detail: rest,
        })),
      });
    }),
  );
  app.get(
    '/kubegate/v1/my/requests/:id',
    route(log, async (req, res) => {
      const caller = await identify(req);
      const p = await deps.store.getPending(String(req.params.id));
      if (!p || !owns(caller, p.requester, p.detail.cluster))
        throw new StatusError(404, 'NotFound', `no request ${req.params.id} of yours`);
      res.json({ ...p, detail: { ...p.detail, oldObject: redact(p.detail.oldObject, p.target) } });
    }),
  );
}
