import type express from 'express';
import { ApprovalError } from '../approval/token.js';
import { proposeRollback } from '../rollback/run.js';
import { type ApiDeps, route } from './app.js';

export type { RollbackDeps } from '../rollback/run.js';

/** A single-use rollback token (or passkey approval) naming an executed request: its undo, held. */
export async function proposeRollbackBy(deps: ApiDeps, token: unknown, id: string) {
  const v = await deps.approvals.verify(token, 'rollback');
  if (!v.requestIds?.includes(id)) throw new ApprovalError('token does not name this request', 'mismatch');
  if (!(await deps.store.useJti(v.jti, v.exp)))
    throw new ApprovalError('token was already used (replay)', 'replayed');
  const { pending: p, undo } = await proposeRollback(deps, id, v.approver);
  return {
    id: p.id,
    rollback_of: id,
    risk: p.risk,
    reasons: p.reasons,
    approvals_required: p.detail.approvals_required,
    override_required: p.detail.override_required,
    steps: undo.steps,
    effect: undo.effect,
  };
}

/** `approve-cli rollback ID`: propose the undo of an executed change, held for another approver. */
export function rollbackRoutes(app: express.Express, deps: ApiDeps): void {
  app.post(
    '/kubegate/v1/requests/:id/rollback',
    route(deps.log, async (req, res) => {
      res.status(201).json(await proposeRollbackBy(deps, req.body?.token, String(req.params.id)));
    }),
  );
}
