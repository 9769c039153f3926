import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { countApprovals } from './approval/count.js';
import type { ApproverJwks } from './approval/keys.js';
import type { Notifier } from './approval/notifier.js';
import {
  type ApprovalAction,
  ApprovalError,
  approvalJti,
  type VerifiedApproval,
  verifyApproval,
} from './approval/token.js';
import type { AuditLog } from './audit/log.js';
import { redact } from './audit/redact.js';
import type { Config } from './config.js';
import { kubeCall } from './kube/client.js';
import { honoursDryRun } from './kube/request.js';
import type { Metrics } from './metrics.js';
import type { PolicyEngine } from './policy/engine.js';
import { executeRollback, proposeRollback } from './rollback.js';
import type { PendingRequest, StateStore } from './state/store.js';
import type { Upstream } from './upstream.js';

export interface ApiDeps {
  config: Config;
  store: StateStore;
  audit: AuditLog;
  jwks: () => ApproverJwks;
  notifier: Notifier;
  logger: Logger;
  policy: PolicyEngine;
  upstream: Upstream;
  policyVersion: () => string;
  metrics?: Metrics;
}

type Handler = (req: Request, res: Response) => Promise<void>;

/** A Kubernetes-style Status for the API's own errors, so approve-cli prints one readable line. */
function fail(res: Response, code: number, reason: string, message: string): void {
  res
    .status(code)
    .json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code, message });
}

const ERROR_CODES: Record<ApprovalError['code'], [number, string]> = {
  invalid: [401, 'Unauthorized'],
  expired: [401, 'Unauthorized'],
  replayed: [409, 'Conflict'],
  'self-approval': [403, 'Forbidden'],
  mismatch: [409, 'Conflict'],
  'not-found': [404, 'NotFound'],
  conflict: [409, 'Conflict'],
};

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

/**
 * kubegate's approval API under /kubegate/v1. Every call carries a token signed
 * by a trusted approver key: reads with a short `read` token in the
 * Authorization header, actions with a single-use action token in the body.
 */
export function createApi(deps: ApiDeps): express.Express {
  const { store, audit, notifier, config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '64kb' }));

  const verify = async (token: unknown, action: ApprovalAction): Promise<VerifiedApproval> => {
    if (typeof token !== 'string' || !token) throw new ApprovalError('missing approver token', 'invalid');
    const v = await verifyApproval(token, deps.jwks(), {
      audience: config.cluster_name,
      maxTtlSeconds: config.execution.max_token_ttl_seconds,
    });
    if (v.action !== action)
      throw new ApprovalError(`token is for "${v.action}", not "${action}"`, 'invalid');
    return v;
  };
  /** A single-use action token naming the request in the path, and that request. */
  const actionOn = async (req: Request, action: 'reject' | 'revoke') => {
    const v = await verify(req.body?.token, action);
    const id = String(req.params.id);
    if (!v.requestIds?.includes(id)) throw new ApprovalError('token does not name this request', 'mismatch');
    if (!(await store.useJti(v.jti, v.exp)))
      throw new ApprovalError('token was already used (replay)', 'replayed');
    const p = await store.getPending(id);
    if (!p) throw new ApprovalError(`no request ${id}`, 'not-found');
    return { v, id, p };
  };
  const bearer = (req: Request) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

  const route =
    (h: Handler) =>
    (req: Request, res: Response, next: NextFunction): void => {
      h(req, res).catch((err: unknown) => {
        if (err instanceof ApprovalError) {
          const [code, reason] = ERROR_CODES[err.code];
          void audit
            .append({ event: 'refused_action', status: 'refused', message: err.message, path: req.path })
            .catch(() => undefined);
          return fail(res, code, reason, err.message);
        }
        next(err);
      });
    };

  app.get('/kubegate/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  // Prometheus scrapes without an approver token: the metrics hold counts, never request content.
  app.get('/kubegate/metrics', (_req, res, next) => {
    if (!deps.metrics) return fail(res, 404, 'NotFound', 'metrics are not enabled');
    deps.metrics
      .render()
      .then((text) => res.type(deps.metrics!.contentType).send(text))
      .catch(next);
  });
  // Ready only with a loaded policy, a writable audit log and an upstream that answers (checked at most every 5 s).
  let upstreamOk = { at: 0, ok: false };
  const upstreamAnswers = async (): Promise<boolean> => {
    if (Date.now() - upstreamOk.at < 5000) return upstreamOk.ok;
    const auth = deps.upstream.ownAuthorization();
    const r = await kubeCall(deps.upstream, {
      path: '/readyz',
      ...(auth ? { authorization: auth } : {}),
      timeoutMs: 3000,
    }).catch(() => undefined);
    upstreamOk = { at: Date.now(), ok: r?.status === 200 };
    return upstreamOk.ok;
  };
  app.get('/kubegate/readyz', (_req, res, next) => {
    if (!audit.healthy) return fail(res, 503, 'ServiceUnavailable', 'audit log is not writable');
    upstreamAnswers()
      .then((ok) =>
        ok
          ? res.json({ ready: true, policy: deps.policyVersion() })
          : fail(res, 503, 'ServiceUnavailable', 'the upstream API server does not answer'),
      )
      .catch(next);
  });

  app.get(
    '/kubegate/v1/requests',
    route(async (req, res) => {
      await verify(bearer(req), 'read');
      res.json({
        items: withConflicts(await store.listPending()).map(forApprovers),
        freeze: await store.getFreeze(),
      });
    }),
  );

  app.get(
    '/kubegate/v1/requests/:id',
    route(async (req, res) => {
      await verify(bearer(req), 'read');
      const p = await store.getPending(String(req.params.id));
      if (!p) return fail(res, 404, 'NotFound', `no request ${req.params.id}`);
      const others = await store.listPending();
      const approvals = await store.approvalsFor(p.fingerprint, Date.now());
      const snapshot = await store.getSnapshot(p.id);
      res.json({
        ...forApprovers(withConflicts([p, ...others.filter((o) => o.id !== p.id)])[0]!),
        approvals: approvals.map((a) => ({
          approver: a.approver,
          override: a.override,
          reason: a.reason,
          exp: a.exp,
        })),
        snapshot: snapshot && { ...snapshot, before: redact(snapshot.before, snapshot.target) },
      });
    }),
  );

  /**
   * A server-side dry run of a held request, as its requester (kubegate's own credentials with
   * Impersonate-User/Group), so approvers see what the apiserver would make of it.
   */
  app.get(
    '/kubegate/v1/requests/:id/dryrun',
    route(async (req, res) => {
      await verify(bearer(req), 'read');
      const p = await store.getPending(String(req.params.id));
      if (!p) return fail(res, 404, 'NotFound', `no request ${req.params.id}`);
      const d = p.detail;
      const auth = deps.upstream.ownAuthorization();
      const binary = d.decoded !== undefined;
      const method = { create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE' }[d.verb];
      if (!auth || !method || binary || !honoursDryRun(d)) {
        res.json({
          available: false,
          reason: !auth
            ? 'kubegate has no credentials of its own'
            : `no dry run for ${d.verb}${binary ? ' with a binary body' : ''}`,
        });
        return;
      }
      const query = new URLSearchParams();
      for (const [k, vs] of Object.entries(d.query))
        for (const v of vs) if (k !== 'dryRun') query.append(k, v);
      query.set('dryRun', 'All');
      const headers: Record<string, string> = { 'impersonate-user': p.requester };
      // A DELETE with a body takes its options from the body alone (the query is ignored):
      // the dry run must be in the body, or this preview would really delete.
      const body =
        d.verb === 'delete'
          ? { body: { ...asObject(d.body), dryRun: ['All'] }, contentType: 'application/json' }
          : d.body !== null && d.body !== undefined
            ? { body: d.body, contentType: d.contentType || 'application/json' }
            : {};
      const r = await kubeCall<Record<string, unknown>>(deps.upstream, {
        method,
        path: `${d.path}?${query.toString()}`,
        authorization: auth,
        headers,
        ...body,
        impersonateGroups: (p.requesterGroups ?? []).filter((g) => g !== 'system:authenticated'),
      });
      const ok = r.status >= 200 && r.status < 300;
      res.json({
        available: true,
        status: r.status,
        ...(ok
          ? { object: redact(r.body, p.target) }
          : { message: (r.body as { message?: string } | null)?.message ?? `HTTP ${r.status}` }),
      });
    }),
  );

  app.post(
    '/kubegate/v1/approvals',
    route(async (req, res) => {
      const v = await verify(req.body?.token, 'approve');
      const targets: PendingRequest[] = [];
      for (const fp of v.fingerprints ?? []) {
        const p = await store.findPendingByFingerprint(fp);
        if (!p || p.status !== 'pending')
          throw new ApprovalError(
            `no pending request has fingerprint ${fp} (already run, rejected, cancelled, or never held)`,
            'not-found',
          );
        if (v.requestIds && !v.requestIds.includes(p.id))
          throw new ApprovalError(
            `fingerprint ${fp} belongs to ${p.id}, not to ${v.requestIds.join(', ')}`,
            'mismatch',
          );
        if (p.requester === v.approver)
          throw new ApprovalError(`${v.approver} requested ${p.id} and cannot approve it`, 'self-approval');
        if (v.iat * 1000 <= (await store.withdrawnAt(fp))) {
          throw new ApprovalError(
            'this approval was signed before the request was rejected or revoked',
            'conflict',
          );
        }
        targets.push(p);
      }
      // a plan's token approves each of its fingerprints once: one stored approval per fingerprint
      for (const p of targets) {
        const ok = await store.addApproval({
          jti: approvalJti(v.jti, v.fingerprints ?? [], p.fingerprint),
          fingerprint: p.fingerprint,
          approver: v.approver,
          kid: v.kid,
          override: !!v.override,
          reason: v.reason ?? '',
          exp: v.exp,
          requestId: p.id,
          ...(v.resourceVersion && targets.length === 1 ? { resourceVersion: v.resourceVersion } : {}),
          ...(v.planId ? { planId: v.planId } : {}),
        });
        if (!ok) throw new ApprovalError('approval token was already used (replay)', 'replayed');
        await audit.append({
          event: 'approved',
          request_id: p.id,
          ...(v.planId ? { plan_id: v.planId } : {}),
          user: p.requester,
          risk: p.risk,
          approver: v.approver,
          status: 'approved',
          resource: p.target,
          override: !!v.override,
          ...(v.reason ? { reason: v.reason } : {}),
        });
        notifier.notify(p.fingerprint, { kind: 'approved' });
        if (p.detail.rollbackOf) await runRollbackIfApproved(p);
      }
      logger.info({ approver: v.approver, requests: targets.map((t) => t.id) }, 'approved');
      res.status(201).json({ approved: targets.map((t) => t.id), approver: v.approver });
    }),
  );

  app.post(
    '/kubegate/v1/requests/:id/reject',
    route(async (req, res) => {
      const { v, id, p } = await actionOn(req, 'reject');
      const reason = v.reason ?? 'no reason given';
      if (
        !(await store.transitionPending(id, ['pending'], 'rejected', `rejected by ${v.approver}: ${reason}`))
      ) {
        throw new ApprovalError(`${id} is ${p.status}, not pending`, 'conflict');
      }
      await store.revokeApprovals({ fingerprint: p.fingerprint }, Date.now());
      await store.markWithdrawn(p.fingerprint, Date.now());
      await audit.append({
        event: 'rejected',
        request_id: id,
        user: p.requester,
        risk: p.risk,
        approver: v.approver,
        status: 'rejected',
        resource: p.target,
        reason,
      });
      notifier.notify(p.fingerprint, { kind: 'rejected', message: `rejected by ${v.approver}: ${reason}` });
      res.json({ rejected: id });
    }),
  );

  app.post(
    '/kubegate/v1/requests/:id/revoke',
    route(async (req, res) => {
      const { v, id, p } = await actionOn(req, 'revoke');
      const n = await store.revokeApprovals({ fingerprint: p.fingerprint }, Date.now());
      await store.markWithdrawn(p.fingerprint, Date.now());
      await audit.append({
        event: 'revoked',
        request_id: id,
        user: p.requester,
        approver: v.approver,
        status: 'revoked',
        resource: p.target,
        revoked: n,
      });
      res.json({ request: id, revoked: n });
    }),
  );

  /** An approved rollback has no waiting client: kubegate runs it with its own credentials. */
  async function runRollbackIfApproved(p: PendingRequest): Promise<void> {
    const verdict = countApprovals(
      await store.approvalsFor(p.fingerprint, Date.now()),
      { approvals: p.detail.approvals_required, override_required: p.detail.override_required },
      {
        allowCritical: config.safety.allow_critical,
        requester: p.requester,
        resourceVersion: p.detail.resourceVersion,
      },
    );
    if (!verdict.ok) return;
    const freeze = await store.getFreeze();
    if (freeze.on) return;
    const auth = deps.upstream.ownAuthorization();
    if (!auth)
      throw new ApprovalError(
        'kubegate has no credentials of its own to run a rollback (upstream token)',
        'conflict',
      );
    if (!(await store.transitionPending(p.id, ['pending'], 'approved'))) return;
    if (
      !(await store.consumeApprovals(
        verdict.use.map((a) => a.jti),
        Date.now(),
      ))
    )
      return;
    const approvers = verdict.use.map((a) => a.approver);
    const base = {
      request_id: p.id,
      action: `${p.detail.verb} ${p.detail.path}`,
      resource: p.target,
      user: p.requester,
      risk: p.risk,
      reasons: p.reasons,
      approvers,
    };
    await audit.append({
      ...base,
      event: 'forwarded',
      status: 'pending',
      rollback_of: p.detail.rollbackOf,
      body: p.detail.body,
    });
    const started = Date.now();
    const r = await executeRollback(deps.upstream, auth, p);
    const ok = r.status >= 200 && r.status < 300;
    await audit.append({
      ...base,
      event: ok ? 'executed' : 'failed',
      status: ok ? 'success' : 'failed',
      http_status: r.status,
      duration_seconds: (Date.now() - started) / 1000,
      ...(r.message ? { message: r.message } : {}),
    });
    await store.transitionPending(
      p.id,
      ['approved'],
      ok ? 'executed' : 'failed',
      r.message ?? `HTTP ${r.status}`,
    );
    if (ok) {
      await audit.append({
        event: 'rolled_back',
        request_id: p.detail.rollbackOf,
        rollback_request_id: p.id,
        resource: p.target,
        status: 'success',
        approvers,
      });
    }
  }

  app.post(
    '/kubegate/v1/requests/:id/rollback',
    route(async (req, res) => {
      const v = await verify(req.body?.token, 'rollback');
      const id = String(req.params.id);
      if (!v.requestIds?.includes(id))
        throw new ApprovalError('token does not name this request', 'mismatch');
      if (!(await store.useJti(v.jti, v.exp)))
        throw new ApprovalError('token was already used (replay)', 'replayed');
      const auth = deps.upstream.ownAuthorization();
      if (!auth)
        return fail(
          res,
          409,
          'Conflict',
          'kubegate has no credentials of its own to read the live object and run a rollback',
        );
      let proposed: Awaited<ReturnType<typeof proposeRollback>>;
      try {
        proposed = await proposeRollback(
          {
            store,
            policy: deps.policy,
            upstream: deps.upstream,
            authorization: auth,
            config: {
              production_namespaces: config.safety.production_namespaces,
              block_production: config.safety.block_production,
            },
          },
          id,
          v.approver,
        );
      } catch (err) {
        const e = err as { code?: number; message: string };
        return fail(res, e.code ?? 500, e.code === 404 ? 'NotFound' : 'Conflict', e.message);
      }
      const { pending: p, plan } = proposed;
      await audit.append({
        event: 'held',
        request_id: p.id,
        action: `${p.detail.verb} ${p.detail.path}`,
        resource: p.target,
        user: p.requester,
        risk: p.risk,
        reasons: p.reasons,
        status: 'pending',
        rollback_of: id,
        body: p.detail.body,
        policy: p.detail.policy,
      });
      res.status(201).json({
        id: p.id,
        rollback_of: id,
        risk: p.risk,
        reasons: p.reasons,
        approvals_required: p.detail.approvals_required,
        override_required: p.detail.override_required,
        steps: plan.steps,
        effect: plan.effect,
      });
    }),
  );

  app.get(
    '/kubegate/v1/freeze',
    route(async (req, res) => {
      await verify(bearer(req), 'read');
      res.json(await store.getFreeze());
    }),
  );

  app.post(
    '/kubegate/v1/freeze',
    route(async (req, res) => {
      const v = await verify(req.body?.token, 'freeze');
      if (typeof v.freeze !== 'boolean')
        throw new ApprovalError('freeze token must say on or off', 'invalid');
      if (!(await store.useJti(v.jti, v.exp)))
        throw new ApprovalError('token was already used (replay)', 'replayed');
      const now = Date.now();
      await store.setFreeze({
        on: v.freeze,
        by: v.approver,
        at: now,
        ...(v.reason ? { reason: v.reason } : {}),
      });
      let cancelled = 0;
      if (v.freeze) {
        for (const p of await store.listPending(['pending', 'approved'])) {
          const msg = `cancelled by emergency freeze (${v.approver})`;
          if (await store.transitionPending(p.id, ['pending', 'approved'], 'cancelled', msg)) {
            cancelled++;
            await store.revokeApprovals({ fingerprint: p.fingerprint }, now);
            await store.markWithdrawn(p.fingerprint, now);
            notifier.notify(p.fingerprint, { kind: 'cancelled', message: msg });
          }
        }
      }
      await audit.append({
        event: v.freeze ? 'freeze' : 'unfreeze',
        approver: v.approver,
        status: v.freeze ? 'frozen' : 'unfrozen',
        cancelled,
        ...(v.reason ? { reason: v.reason } : {}),
      });
      logger.warn(
        { by: v.approver, on: v.freeze, cancelled },
        v.freeze ? 'EMERGENCY FREEZE ON' : 'freeze off',
      );
      res.json({ on: v.freeze, by: v.approver, cancelled });
    }),
  );

  app.use((_req: Request, res: Response) => fail(res, 404, 'NotFound', 'no such kubegate API path'));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; type?: string; message?: string };
    if (e.status && e.status < 500) return fail(res, e.status, 'BadRequest', e.message ?? 'bad request');
    logger.error({ err }, 'approval API error');
    fail(res, 500, 'InternalError', 'kubegate internal error');
  });
  return app;
}

const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
