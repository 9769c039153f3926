import type express from 'express';
import { redact } from '../audit/redact.js';
import type { PendingRequest } from '../wire/request-view.js';
import { type ApiDeps, bearer, fail, route } from './app.js';
import { previewHeld } from './preview.js';

/**
 * What approvers may see: the live object and a decoded body are redacted like the audit log
 * (Secret data, tokens). The requested body itself stays: it is what they sign, and the
 * fingerprint approve-cli recomputes covers it.
 */
function forApprovers<T extends PendingRequest>(p: T): T {
  const d = p.detail;
  return {
    ...p,
    detail: {
      ...d,
      oldObject: redact(d.oldObject, p.target),
      ...(d.decoded !== undefined ? { decoded: redact(d.decoded, p.target) } : {}),
    },
  };
}

/** Marks pending requests that target the same object: only one of them may run. */
function withConflicts(all: PendingRequest[]): (PendingRequest & { conflicts: string[] })[] {
  return all.map((p) => ({
    ...p,
    conflicts: all
      .filter((o) => o.id !== p.id && o.target === p.target && o.status === 'pending')
      .map((o) => o.id),
  }));
}

/** Reading held requests: the list, one request with its approvals and snapshot, its preview. */
export function requestRoutes(app: express.Express, deps: ApiDeps): void {
  const { store, approvals, log } = deps;
  app.get(
    '/kubegate/v1/requests',
    route(log, async (req, res) => {
      await approvals.verify(bearer(req), 'read');
      res.json({
        items: withConflicts(await store.listPending()).map(forApprovers),
        freeze: await store.getFreeze(),
      });
    }),
  );
  app.get(
    '/kubegate/v1/requests/:id',
    route(log, async (req, res) => {
      await approvals.verify(bearer(req), 'read');
      const p = await store.getPending(String(req.params.id));
      if (!p) return fail(res, 404, 'NotFound', `no request ${req.params.id}`);
      const others = await store.listPending();
      const live = await store.approvalsFor(p.fingerprint, Date.now());
      const snapshot = await store.getSnapshot(p.id);
      res.json({
        ...forApprovers(withConflicts([p, ...others.filter((o) => o.id !== p.id)])[0]!),
        approvals: live.map((a) => ({
          approver: a.approver,
          override: a.override,
          reason: a.reason,
          exp: a.exp,
        })),
        snapshot: snapshot && {
          ...snapshot,
          before: redact(snapshot.before, snapshot.target),
          after: redact(snapshot.after, snapshot.target),
        },
      });
    }),
  );
  app.get(
    '/kubegate/v1/requests/:id/dryrun',
    route(log, async (req, res) => {
      const v = await approvals.verify(bearer(req), 'read');
      const p = await store.getPending(String(req.params.id));
      if (!p) return fail(res, 404, 'NotFound', `no request ${req.params.id}`);
      res.json(await previewHeld(deps, p, v.approver));
    }),
  );
}
