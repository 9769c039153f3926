import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { SinkStatus } from './audit/sink.js';
import { isRisk, RISKS } from './wire/risk.js';

/**
 * kubegate's Prometheus metrics, in a registry of their own (never prom-client's
 * global one, so two kubegates in one process — tests — do not collide). The
 * request path only bumps in-memory counters; rendering happens on scrape.
 */
export type Outcome = 'forwarded' | 'held' | 'blocked' | 'rejected' | 'refused';
export type VerbClass = 'read' | 'write';
export type RefusedCaller = 'anonymous' | 'unverifiable' | 'over_budget' | 'reads_in_flight' | 'console';

export interface Metrics {
  readonly registry: Registry;
  /** The `Content-Type` to serve `render()` with. */
  readonly contentType: string;
  /** One gate decision: its risk class and what became of the request. */
  decision(risk: string, outcome: Outcome, cluster?: string): void;
  /** Requests currently held open waiting for approval: +1 when one starts waiting, -1 when it stops. */
  held(delta: number, cluster?: string): void;
  /** Seconds from a request being held to its approval. */
  approvalLatency(seconds: number): void;
  /** Seconds one policy evaluation took. */
  policyEval(seconds: number): void;
  /** Seconds of one upstream call (to response headers), by read or write. */
  upstream(kind: VerbClass, seconds: number, cluster?: string): void;
  /** Seconds one `audit.append` took (the durable write, fsync included). */
  auditAppend(seconds: number): void;
  /** A caller refused before anything was read: `anonymous` write, `unverifiable` credentials, `over_budget` body, `reads_in_flight`. */
  refusedCaller(kind: RefusedCaller): void;
  /** A rule in audit mode that would have raised a request's risk (`hold`: held it, where it passed). */
  auditModeFinding(rule: string, would: 'hold' | 'raise'): void;
  /** Prometheus text exposition of everything above plus the default process metrics. */
  render(): Promise<string>;
}

export interface MetricsOptions {
  /** Collect prom-client's default process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Labels put on every series, e.g. `{ replica: 'kubegate-0' }`. */
  labels?: Record<string, string>;
  /** The clusters behind kubegate: decisions, held requests and upstream latency carry a `cluster` label. */
  clusters?: string[];
  /** Audit and notification sinks, read on each scrape (delivered, failures, queued per sink). */
  sinks?: () => SinkStatus[];
}

/** Starts a stopwatch; calling the result gives the seconds elapsed. */
export function stopwatch(): () => number {
  const t0 = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - t0) / 1e9;
}

const OUTCOMES: readonly Outcome[] = ['forwarded', 'held', 'blocked', 'rejected', 'refused'];
const VERB_CLASSES: readonly VerbClass[] = ['read', 'write'];
const REFUSED_CALLERS: readonly RefusedCaller[] = [
  'anonymous',
  'unverifiable',
  'over_budget',
  'reads_in_flight',
  'console',
];

/** kubegate's own metrics, registered (and so rendered) in this order. */
function registerKubegateMetrics(registry: Registry) {
  const registers = [registry];
  return {
    decisions: new Counter({
      name: 'kubegate_decisions_total',
      help: 'Gate decisions by risk class and outcome.',
      labelNames: ['cluster', 'risk', 'outcome'] as const,
      registers,
    }),
    held: new Gauge({
      name: 'kubegate_held_requests',
      help: 'Requests currently held open waiting for approval.',
      labelNames: ['cluster'] as const,
      registers,
    }),
    approval: new Histogram({
      name: 'kubegate_approval_latency_seconds',
      help: 'Time from a request being held to its approval.',
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14_400],
      registers,
    }),
    policy: new Histogram({
      name: 'kubegate_policy_eval_seconds',
      help: 'Time of one policy (wasm) evaluation.',
      buckets: [1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2],
      registers,
    }),
    upstream: new Histogram({
      name: 'kubegate_upstream_latency_seconds',
      help: 'Time of one upstream API server call until its response headers, by read or write.',
      labelNames: ['cluster', 'verb_class'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    audit: new Histogram({
      name: 'kubegate_audit_fsync_seconds',
      help: 'Time of one durable audit append (group-committed fsync included).',
      buckets: [1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    refused: new Counter({
      name: 'kubegate_refused_callers_total',
      help: 'Requests refused before their body was read: anonymous writes, unverifiable credentials, body budget exceeded; reads_in_flight: too many reads in flight; console: refused console calls (failed sign-ins).',
      labelNames: ['kind'] as const,
      registers,
    }),
    auditMode: new Counter({
      name: 'kubegate_policy_audit_mode_total',
      help: 'Requests a rule in audit mode would have decided otherwise, by rule and what it would have done.',
      labelNames: ['rule', 'would'] as const,
      registers,
    }),
  };
}

type KubegateMetrics = ReturnType<typeof registerKubegateMetrics>;

/** Pre-creates the series a dashboard expects, so they read 0 rather than missing. */
function zeroExpectedSeries(
  { decisions, upstream, held, refused }: KubegateMetrics,
  clusters: string[],
): void {
  for (const cluster of clusters) {
    for (const risk of RISKS) for (const outcome of OUTCOMES) decisions.inc({ cluster, risk, outcome }, 0);
    for (const verb_class of VERB_CLASSES) upstream.zero({ cluster, verb_class });
    held.set({ cluster }, 0);
  }
  for (const kind of REFUSED_CALLERS) refused.inc({ kind }, 0);
}

/** Sink counters live in the sinks; these read them when scraped (nothing on the request path). */
function registerSinkMetrics(registry: Registry, sinks: () => SinkStatus[]): void {
  const registers = [registry];
  const labelNames = ['sink'] as const;
  new Counter({
    name: 'kubegate_sink_delivered_total',
    help: 'Audit records (or notifications) a sink delivered (webhooks: acknowledged with 2xx).',
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const s of sinks()) this.inc({ sink: s.name }, s.shipped);
    },
  });
  new Counter({
    name: 'kubegate_sink_failures_total',
    help: 'Failed delivery attempts by sink (each is retried).',
    labelNames,
    registers,
    collect() {
      this.reset();
      for (const s of sinks()) this.inc({ sink: s.name }, s.failures);
    },
  });
  new Gauge({
    name: 'kubegate_sink_queued',
    help: 'Records waiting in memory for a sink.',
    labelNames,
    registers,
    collect() {
      for (const s of sinks()) this.set({ sink: s.name }, s.queued);
    },
  });
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const m = registerKubegateMetrics(registry);
  const clusters = opts.clusters ?? [''];
  // a label value from a request is one of the configured names (bounded cardinality)
  const known = (c: string | undefined) =>
    c !== undefined && clusters.includes(c) ? c : (clusters[0] ?? '');
  zeroExpectedSeries(m, clusters);
  if (opts.sinks) registerSinkMetrics(registry, opts.sinks);

  const ok = (s: number) => Number.isFinite(s) && s >= 0;
  return {
    registry,
    contentType: registry.contentType,
    decision(risk, outcome, cluster) {
      // the policy names the risk; anything else is folded into one series (bounded cardinality)
      m.decisions.inc({ cluster: known(cluster), risk: isRisk(risk) ? risk : 'UNKNOWN', outcome });
    },
    held(delta, cluster) {
      m.held.inc({ cluster: known(cluster) }, delta);
    },
    approvalLatency(s) {
      if (ok(s)) m.approval.observe(s);
    },
    policyEval(s) {
      if (ok(s)) m.policy.observe(s);
    },
    upstream(kind, s, cluster) {
      if (ok(s)) m.upstream.observe({ cluster: known(cluster), verb_class: kind }, s);
    },
    auditAppend(s) {
      if (ok(s)) m.audit.observe(s);
    },
    refusedCaller(kind) {
      m.refused.inc({ kind });
    },
    auditModeFinding(rule, would) {
      m.auditMode.inc({ rule, would });
    },
    render: () => registry.metrics(),
  };
}
