import type express from 'express';
import type { Request, Response } from 'express';
import { objectContentHash } from '../approval/object-version.js';
import { ApprovalError } from '../approval/token.js';
import { redact } from '../audit/redact.js';
import { buildResourceRequest } from '../kube/build.js';
import { fetchLive, resourceVersionOf } from '../kube/live.js';
import type { PendingDetail, PendingRequest } from '../wire/request-view.js';
import { type ApiDeps, bearer, fail, route } from './app.js';
import { asRequester, previewHeld } from './preview.js';
import { owns, type Requester } from './requester.js';

/**
 * What approvers may see: the live object and a decoded body are redacted like the audit log
 * (Secret data, tokens). The requested body itself stays: it is what they sign, and the
 * fingerprint approve-cli recomputes covers it.
 */
function forApprovers<T extends PendingRequest>(p: T): T {
  return { ...p, detail: redactDetail(p.detail, p.target) };
}

function redactDetail(d: PendingDetail, target: string): PendingDetail {
  return {
    ...d,
    oldObject: redact(d.oldObject, target),
    ...(d.decoded !== undefined ? { decoded: redact(d.decoded, target) } : {}),
  };
}

/**
 * The list names each request without its body, live object or decoded body (`show` has them):
 * a list of many large held requests must stay small for every approver.
 */
function listed(p: PendingRequest & { conflicts: string[] }) {
  const { body: _b, oldObject: _o, decoded: _d, ...rest } = p.detail;
  return { ...p, detail: rest };
}

/** Marks pending requests that target the same object: only one of them may run. */
function withConflicts(all: PendingRequest[]): (PendingRequest & { conflicts: string[] })[] {
  return all.map((p) => ({
    ...p,
    conflicts: all
      .filter(
        (o) =>
          o.id !== p.id &&
          o.target === p.target &&
          o.detail.cluster === p.detail.cluster &&
          o.status === 'pending',
      )
      .map((o) => o.id),
  }));
}

/**
 * A pending request as the object is NOW: when the live object moved since it was held, approvers
 * see (and approve-cli binds its approval to) the current version, and `moved` says from which.
 */
async function withLive(deps: ApiDeps, p: PendingRequest): Promise<PendingRequest & { moved?: object }> {
  const d = p.detail;
  const upstream = deps.clusters.of(d.cluster).upstream;
  const own = upstream.ownAuthorization();
  if (p.status !== 'pending' || !own || !d.name || !['update', 'patch', 'delete', 'create'].includes(d.verb))
    return p;
  const kr = buildResourceRequest({ ...d, verb: 'patch', subresource: '', query: {}, contentType: '' });
  const live = await fetchLive(upstream, kr, asRequester(p, own)).catch(() => null);
  const now = resourceVersionOf(live);
  if (!now || now === d.resourceVersion) return p;
  // only its status moved (a rollout settling): the object approvers judge is the one held
  if (objectContentHash(live) === objectContentHash(d.oldObject)) return p;
  return {
    ...p,
    detail: { ...d, oldObject: live, resourceVersion: now },
    moved: { heldAt: d.resourceVersion ?? null, now, heldObject: redact(d.oldObject, p.target) },
  };
}

/** The list of held requests as approvers read it (the API and the console). */
export async function listView(deps: ApiDeps) {
  return {
    items: withConflicts(await deps.store.listPending()).map(listed),
    freeze: await deps.store.getFreeze(),
    // a pending request older than this is no longer held open: its requester re-runs it after approval
    hold_seconds: deps.holdSeconds,
    clusters: deps.clusters.names,
  };
}

/** One request as approvers read it: live object, approvals so far, rollback snapshot. */
export async function showView(deps: ApiDeps, id: string) {
  const { store } = deps;
  const p = await store.getPending(id);
  if (!p) return undefined;
  const others = await store.listPending();
  const live = await store.approvalsFor(p.fingerprint, Date.now());
  const snapshot = await store.getSnapshot(p.id);
  return {
    ...forApprovers(withConflicts([await withLive(deps, p), ...others.filter((o) => o.id !== p.id)])[0]!),
    approvals: live.map((a) => ({
      approver: a.approver,
      override: a.override,
      reason: a.reason,
      exp: a.exp,
    })),
    // an approval names this (approve-cli and the console sign it): it counts until the next one
    withdrawn_at: await store.withdrawnAt(p.fingerprint),
    ...(p.detail.approvals_from?.length ? { groups_needed: deps.approvals.groupsNeeded(p, live) } : {}),
    snapshot: snapshot && {
      ...snapshot,
      before: redact(snapshot.before, snapshot.target),
      after: redact(snapshot.after, snapshot.target),
      detail: redactDetail(snapshot.detail, snapshot.target),
    },
  };
}

/** An approver's read token or, failing that, the requester's own kube credentials (their requests only). */
async function readerOf(deps: ApiDeps, req: Request): Promise<{ approver?: string; requester?: Requester }> {
  try {
    return { approver: (await deps.approvals.verify(bearer(req), 'read')).approver };
  } catch (err) {
    if (!(err instanceof ApprovalError)) throw err;
    const caller = await deps.identify(req).catch(() => {
      throw err;
    });
    return { requester: caller };
  }
}

/** Reading held requests: the list, one request with its approvals and snapshot, its preview. */
export function requestRoutes(app: express.Express, deps: ApiDeps): void {
  const { store, approvals, log } = deps;
  app.get(
    '/kubegate/v1/requests',
    route(log, async (req, res) => {
      await approvals.verify(bearer(req), 'read');
      res.json(await listView(deps));
    }),
  );
  app.get(
    '/kubegate/v1/requests/:id',
    route(log, async (req, res) => {
      const reader = await readerOf(deps, req);
      const view = await showView(deps, String(req.params.id));
      if (!view || (reader.requester && !owns(reader.requester, view.requester, view.detail.cluster)))
        return fail(res, 404, 'NotFound', `no request ${req.params.id}`);
      // a requester learns nothing of other requesters' requests, not even their ids
      res.json(reader.requester ? { ...view, conflicts: [] } : view);
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
  app.get(
    '/kubegate/v1/watch',
    route(log, async (req, res) => {
      const v = await approvals.verify(bearer(req), 'read');
      streamChanges(deps, res, v.exp * 1000);
    }),
  );
}

/**
 * A live view for approvers (server-sent events): one `request` event per change of a pending
 * request here, so a client re-reads what changed instead of polling the whole list. The stream
 * ends when the read token that opened it expires.
 */
export function streamChanges(deps: ApiDeps, res: Response, until: number): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  res.write(': watching pending requests\n\n');
  // with the request's target, so a page showing another request on that object redraws too
  const off = deps.approvals.onChange(
    (c) =>
      void deps.store
        .getPending(c.id)
        .catch(() => undefined)
        .then((p) => {
          if (!res.writableEnded)
            res.write(`event: request\ndata: ${JSON.stringify({ ...c, target: p?.target })}\n\n`);
        })
        .catch(() => undefined),
  );
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  const expire = setTimeout(() => res.end('event: expired\ndata: {}\n\n'), Math.max(0, until - Date.now()));
  res.on('close', () => {
    off();
    clearInterval(ping);
    clearTimeout(expire);
  });
}
