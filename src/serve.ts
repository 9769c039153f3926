import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { createApi } from './api/app.js';
import { requesterIdentity } from './api/requester.js';
import { Approvers } from './approval/approvers-file.js';
import { scheduleExpiry } from './approval/expiry.js';
import { Notifier } from './approval/notifier.js';
import { ApprovalService } from './approval/service.js';
import { markInterrupted } from './audit/interrupted.js';
import { AuditLog } from './audit/log.js';
import { RequestAudit } from './chain/audit.js';
import { Budget } from './chain/budget.js';
import { createChain } from './chain/chain.js';
import { createForwarder, type Forwarder } from './chain/forward.js';
import { type Cluster, Clusters, clientCaFiles } from './clusters.js';
import type { Config } from './config.js';
import { checkConfigFiles, listenError } from './config-files.js';
import type { ConsoleOptions } from './console/deps.js';
import { createListener, type KubegateServer } from './listen.js';
import { createMetrics } from './metrics.js';
import { notifySinks } from './notify/sinks.js';
import { PasskeyStore, passkeysFileFor } from './passkey/store.js';
import { type RelyingParty, relyingParty } from './passkey/webauthn.js';
import { PolicyEngine } from './policy/engine.js';
import { SessionRecorder } from './sessions/recorder.js';
import { KubernetesStore } from './state/kubernetes.js';
import { pruneRules, schedulePruning } from './state/prune.js';
import { SqliteStore } from './state/sqlite.js';
import type { StateStore } from './state/store.js';
import type { ApproverJwks } from './wire/approver-key.js';

export interface Running {
  server: KubegateServer;
  port: number;
  close(graceMs?: number): Promise<void>;
}

/** The embedded SQLite file by default; the Kubernetes API itself when several replicas share state. */
async function openStore(config: Config, clusters: Clusters): Promise<StateStore> {
  if (config.state?.type === 'kubernetes') {
    const upstream = clusters.home.upstream;
    return KubernetesStore.open(upstream, {
      namespace: config.state.namespace,
      authorization: () => {
        const auth = upstream.ownAuthorization();
        if (!auth)
          throw new Error('state.type kubernetes needs kubegate credentials of its own (upstream token)');
        return auth;
      },
    });
  }
  return new SqliteStore(
    config.state?.type === 'file'
      ? config.state.path
      : path.join(path.dirname(config.audit.path), 'kubegate-state.db'),
  );
}

interface Parts {
  policy: PolicyEngine;
  log: AuditLog;
  store: StateStore;
  clusters: Clusters;
  logger: Logger;
  metrics: ReturnType<typeof createMetrics>;
  jwks: () => ApproverJwks;
  /** The console's origin (its port is known once the listener listens). */
  consoleRp: () => RelyingParty;
}

/** The approval console's options, or none when it is switched off. */
function consoleOf(config: Config, p: Parts): ConsoleOptions | undefined {
  if (!config.console.enabled) return undefined;
  return {
    passkeys: new PasskeyStore(passkeysFileFor(config.approvers.jwks)),
    rp: p.consoleRp,
    cluster: config.cluster_name,
    jwks: p.jwks,
    auditPath: config.audit.path,
    maxTtlSeconds: config.execution.max_token_ttl_seconds,
  };
}

/** `audit.sessions: record`: exec/attach sessions written beside the audit log. */
function sessionRecorder(config: Config, audit: RequestAudit, logger: Logger): SessionRecorder | undefined {
  if (config.audit.sessions !== 'record') return undefined;
  const dir = path.join(path.dirname(config.audit.path), 'sessions');
  return new SessionRecorder({ dir, maxBytes: config.audit.session_max_bytes, audit, logger });
}

/** The request chain, the approval service and the API, wired to one listener. */
/** How long a plan step's checks may take to pass before the run stops. */
const PLAN_STEP_TIMEOUT_MS = 120_000;

/** One forwarder per cluster: its own upstream and connection pool, one session recorder for all. */
function forwardersOf(
  clusters: Clusters,
  recorder: SessionRecorder | undefined,
  logger: Logger,
): Map<string, Forwarder> {
  const forwarder = (c: Cluster) =>
    createForwarder(
      c.upstream,
      (err, ctx) =>
        logger.warn(
          { err: err.message, cluster: c.name, method: ctx.kr.method, path: ctx.kr.path },
          'upstream error',
        ),
      recorder,
    );
  return new Map(clusters.all.map((c) => [c.name, forwarder(c)]));
}

function wire(config: Config, p: Parts): KubegateServer {
  const { clusters, logger, metrics } = p;
  const audit = new RequestAudit(p.log, metrics, logger, {
    approvalDisabled: !config.safety.require_approval,
    reads: config.audit.reads,
  });
  const approvals = new ApprovalService({
    config,
    store: p.store,
    notifier: new Notifier(),
    audit,
    log: p.log,
    jwks: p.jwks,
    logger,
  });
  const limits = config.limits;
  const ui = consoleOf(config, p);
  const caFiles = clientCaFiles(config);
  const who = { clientCertificates: caFiles.length > 0, metrics, logger };
  const forwarders = forwardersOf(clusters, sessionRecorder(config, audit, logger), logger);
  const handle = createChain({
    ...who,
    config,
    policy: p.policy,
    store: p.store,
    audit,
    approvals,
    maxBodyBytes: limits.max_body_bytes,
    budget: new Budget(limits.max_body_bytes_in_flight, limits.max_body_bytes_per_caller),
    readsInFlight: new Budget(limits.max_reads_in_flight, limits.max_reads_in_flight_per_caller),
    forwarderFor: (c) => forwarders.get(c.name)!,
  });
  const api = createApi({
    store: p.store,
    approvals,
    log: p.log,
    logger,
    clusters,
    handle,
    audit,
    metrics,
    policyVersion: () => p.policy.version,
    holdSeconds: config.execution.hold_seconds,
    identify: requesterIdentity(who, clusters),
    stepTimeoutMs: PLAN_STEP_TIMEOUT_MS,
    ...(ui ? { console: ui } : {}),
  });
  const server = createListener({
    tls: {
      cert: readFileSync(config.tls.cert),
      key: readFileSync(config.tls.key),
      ...(caFiles.length
        ? { clientCa: Buffer.concat(caFiles.flatMap((f) => [readFileSync(f), Buffer.from('\n')])) }
        : {}),
    },
    handle,
    api: (req, res) => api(req, res),
    clusters,
    logger,
  });
  server.on('close', scheduleExpiry(approvals, config.execution.pending_expiry_seconds, logger));
  return server;
}

function clustersOf(config: Config): Clusters {
  const clusters = Clusters.fromConfig(config);
  const without = clusters.all.find((c) => c.clientCa && !c.upstream.ownAuthorization());
  if (without)
    throw new Error(
      `tls.client_ca needs kubegate credentials of its own upstream (it impersonates certificate users)${clusters.several ? `: cluster ${without.name} has none` : ''}`,
    );
  return clusters;
}

function warnAboutSwitches(config: Config, logger: Logger): void {
  if (!config.safety.require_approval)
    logger.warn('safety.require_approval is false: changes are forwarded WITHOUT approval (not recommended)');
  if (config.safety.allow_critical)
    logger.warn(
      'safety.allow_critical is true: CRITICAL changes need no per-request override (still two approvers)',
    );
}

/** Where notifications link to: the console's URL, when it is known before the listener starts. */
function consoleLink(config: Config): string | undefined {
  if (!config.console.enabled) return undefined;
  return config.console.url ?? (config.listen.port ? `https://localhost:${config.listen.port}` : undefined);
}

/** The audit log, with its sinks: shippers and approvers' notifications. */
function openAuditLog(config: Config, logger: Logger): Promise<AuditLog> {
  return AuditLog.open({
    path: config.audit.path,
    ...(config.audit.key ? { signingKey: createPrivateKey(readFileSync(config.audit.key)) } : {}),
    checkpointEvery: config.audit.checkpoint_every,
    fsync: config.audit.fsync,
    sinks: [...config.audit.sinks, ...notifySinks(config.notify, consoleLink(config))],
    replica: process.env.KUBEGATE_REPLICA ?? os.hostname(),
    logger,
  });
}

/** Starts kubegate from a validated config: the `kubegate serve` main job. */
export async function serve(config: Config, logger: Logger = pino({ name: 'kubegate' })): Promise<Running> {
  // what kubegate writes (audit log, state with rollback snapshots, cursors) is for its own user only
  process.umask(0o077);
  checkConfigFiles(config);
  const clusters = clustersOf(config);
  warnAboutSwitches(config, logger);
  const policy = await PolicyEngine.load(config.policy.bundle, logger);
  if (config.policy.watch) policy.watch();
  const audit = await openAuditLog(config, logger);
  const interrupted = await markInterrupted(audit);
  if (interrupted.length)
    logger.warn({ requests: interrupted }, 'changes forwarded before a crash have no recorded outcome');
  const store = await openStore(config, clusters);
  const stopPruning = schedulePruning(
    store,
    () => pruneRules(Date.now(), config.execution.max_token_ttl_seconds, config.state?.retention_days ?? 30),
    logger,
  );
  const metrics = createMetrics({
    labels: { replica: process.env.KUBEGATE_REPLICA ?? os.hostname() },
    clusters: clusters.names,
    sinks: () => audit.shippingStatus(),
  });
  const approvers = Approvers.open(config.approvers.jwks, logger);
  approvers.watch();
  const jwks = () => approvers.jwks;
  let rp = relyingParty(config.console.url ?? 'https://localhost');
  const consoleRp = () => rp;
  const server = wire(config, { policy, log: audit, store, clusters, logger, metrics, jwks, consoleRp });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(config, err)));
    server.listen(config.listen.port, config.listen.address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (!config.console.url) rp = relyingParty(`https://localhost:${port}`);
  logger.info(
    {
      address: config.listen.address,
      port,
      clusters: Object.fromEntries(clusters.all.map((c) => [c.name, c.upstream.url.origin])),
      policy: policy.version,
    },
    'kubegate listening',
  );
  return {
    server,
    port,
    async close(graceMs = 10_000) {
      // Graceful: stop accepting, let in-flight requests finish (bounded), then cut the rest.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(grace);
      approvers.close();
      stopPruning();
      policy.close();
      await audit.close();
      await store.close();
      clusters.close();
    },
  };
}
