import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { ApprovalService } from '../approval/service.js';
import { ApprovalError } from '../approval/token.js';
import type { AuditLog } from '../audit/log.js';
import { type Cluster, requestCluster } from '../clusters.js';
import { consoleRoutes } from '../console/app.js';
import type { ConsoleOptions } from '../console/deps.js';
import { kubeCall } from '../kube/client.js';
import { StatusError } from '../kube/status.js';
import type { Metrics } from '../metrics.js';
import type { RunDeps } from '../plan/run.js';
import type { StateStore } from '../state/store.js';
import { approvalRoutes } from './actions.js';
import { myRequestRoutes, requesterRoutes } from './mine.js';
import { planRoutes } from './plans.js';
import type { PreviewDeps } from './preview.js';
import type { IdentifyRequester } from './requester.js';
import { requestRoutes } from './requests.js';
import type { RollbackDeps } from './rollbacks.js';

export interface ApiDeps extends PreviewDeps, RollbackDeps, RunDeps {
  /** Who a requester is, from their kube credentials (their own requests and plans). */
  identify: IdentifyRequester;
  store: StateStore;
  approvals: ApprovalService;
  log: AuditLog;
  logger: Logger;
  policyVersion: () => string;
  /** execution.hold_seconds: how long a request is held open before its requester must re-run it. */
  holdSeconds: number;
  metrics?: Metrics;
  /** The approval console under /kubegate/ui/ (passkeys). */
  console?: ConsoleOptions;
}

export type Handler = (req: Request, res: Response) => Promise<void>;

/** A Kubernetes-style Status for the API's own errors, so approve-cli prints one readable line. */
export function fail(res: Response, code: number, reason: string, message: string): void {
  res
    .status(code)
    .json({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, code, message });
}

const ERROR_CODES: Record<ApprovalError['code'], [number, string]> = {
  invalid: [401, 'Unauthorized'],
  expired: [401, 'Unauthorized'],
  replayed: [409, 'Conflict'],
  'self-approval': [403, 'Forbidden'],
  'out-of-scope': [403, 'Forbidden'],
  mismatch: [409, 'Conflict'],
  'not-found': [404, 'NotFound'],
  conflict: [409, 'Conflict'],
};

/** Wraps a handler: approval refusals and Status errors become a Status; refusals are on record. */
export function route(log: AuditLog, h: Handler) {
  return (req: Request, res: Response, next: NextFunction): void => {
    h(req, res).catch((err: unknown) => {
      if (err instanceof ApprovalError) {
        const [code, reason] = ERROR_CODES[err.code];
        void log
          .append({ event: 'refused_action', status: 'refused', message: err.message, path: req.path })
          .catch(() => undefined);
        return fail(res, code, reason, err.message);
      }
      if (err instanceof StatusError) return fail(res, err.code, err.reason, err.message);
      next(err);
    });
  };
}

export const bearer = (req: Request) => /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];

/**
 * kubegate's approval API under /kubegate/v1. Every call carries a token signed by a trusted
 * approver key: reads with a short `read` token in the Authorization header, actions with a
 * single-use action token in the body. Health and metrics need none.
 */
export function createApi(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // a plan may carry a few manifests; every other call is a token and a few ids
  app.use('/kubegate/v1/my/plans', express.json({ limit: '1mb' }));
  app.use(express.json({ limit: '64kb' }));
  healthRoutes(app, deps);
  requestRoutes(app, deps);
  approvalRoutes(app, deps);
  planRoutes(app, deps);
  requesterRoutes(app, deps);
  myRequestRoutes(app, deps);
  if (deps.console) consoleRoutes(app, { ...deps, console: deps.console });
  app.use((_req: Request, res: Response) => fail(res, 404, 'NotFound', 'no such kubegate API path'));
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; message?: string };
    if (e.status && e.status < 500) return fail(res, e.status, 'BadRequest', e.message ?? 'bad request');
    deps.logger.error({ err }, 'approval API error');
    fail(res, 500, 'InternalError', 'kubegate internal error');
  });
  return app;
}

function healthRoutes(app: express.Express, deps: ApiDeps): void {
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
  const answers = upstreamAnswers();
  // Ready: a loaded policy, a writable audit log, and the upstream answering. With several
  // clusters, /clusters/NAME/kubegate/readyz is that cluster's readiness; /kubegate/readyz is
  // kubegate's own (one cluster down must not take the others out of a load balancer).
  app.get('/kubegate/readyz', (req, res, next) => {
    if (!deps.log.healthy) return fail(res, 503, 'ServiceUnavailable', 'audit log is not writable');
    const several = deps.clusters.several;
    const one = several ? requestCluster(req) : deps.clusters.all[0];
    Promise.all((one ? [one] : deps.clusters.all).map(async (c) => [c.name, await answers(c)] as const))
      .then((states) => {
        if (one && !states[0]![1])
          return fail(
            res,
            503,
            'ServiceUnavailable',
            `the upstream API server does not answer${several ? ` (cluster ${one.name})` : ''}`,
          );
        const clusters = Object.fromEntries(states.map(([n, ok]) => [n, ok ? 'ready' : 'not answering']));
        res.json({ ready: true, policy: deps.policyVersion(), ...(several ? { clusters } : {}) });
      })
      .catch(next);
  });
}

/** Whether a cluster's API server answers /readyz (kubegate's own credentials), checked at most every 5 s. */
function upstreamAnswers(): (c: Cluster) => Promise<boolean> {
  const last = new Map<string, { at: number; ok: boolean }>();
  return async (c) => {
    const seen = last.get(c.name);
    if (seen && Date.now() - seen.at < 5000) return seen.ok;
    const auth = c.upstream.ownAuthorization();
    const r = await kubeCall(c.upstream, {
      path: '/readyz',
      ...(auth ? { authorization: auth } : {}),
      timeoutMs: 3000,
    }).catch(() => undefined);
    last.set(c.name, { at: Date.now(), ok: r?.status === 200 });
    return r?.status === 200;
  };
}
