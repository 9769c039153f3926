import type express from 'express';
import { runApprovedRollback } from '../rollback/run.js';
import { type ApiDeps, route } from './app.js';
import { rollbackRoutes } from './rollbacks.js';

/** An approval (a token, or a passkey approval from the console); approved rollbacks run at once. */
export async function approveAndRun(deps: ApiDeps, token: unknown) {
  const { approver, approved } = await deps.approvals.approve(token);
  // a rollback has no waiting client: once its approvals are in, kubegate runs it through the chain
  const rollbacks = [];
  for (const p of approved)
    if (p.detail.rollbackOf) {
      const o = await runApprovedRollback(deps, p);
      if (o) rollbacks.push({ id: p.id, http_status: o.status, ...(o.error ? { message: o.error } : {}) });
    }
  return { approved: approved.map((t) => t.id), approver, ...(rollbacks.length ? { rollbacks } : {}) };
}

/** Approver actions, each a single-use signed token handed to the approval service. */
export function approvalRoutes(app: express.Express, deps: ApiDeps): void {
  const { approvals, store, log } = deps;
  app.post(
    '/kubegate/v1/approvals',
    route(log, async (req, res) => {
      res.status(201).json(await approveAndRun(deps, req.body?.token));
    }),
  );
  app.post(
    '/kubegate/v1/requests/:id/reject',
    route(log, async (req, res) => {
      const id = String(req.params.id);
      await approvals.reject(req.body?.token, id);
      res.json({ rejected: id });
    }),
  );
  app.post(
    '/kubegate/v1/requests/:id/revoke',
    route(log, async (req, res) => {
      const id = String(req.params.id);
      res.json({ request: id, revoked: await approvals.revoke(req.body?.token, id) });
    }),
  );
  app.get(
    '/kubegate/v1/freeze',
    route(log, async (req, res) => {
      await approvals.verify(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1], 'read');
      res.json(await store.getFreeze());
    }),
  );
  app.post(
    '/kubegate/v1/freeze',
    route(log, async (req, res) => {
      res.json(await approvals.freeze(req.body?.token));
    }),
  );
  rollbackRoutes(app, deps);
}
