import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

/**
 * kubegate.yaml. Every section is strict: an unknown key or a bad value is an
 * error that names the key, so a typo never silently weakens the gate.
 */
const Sink = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('stdout') }),
  z.strictObject({
    type: z.literal('pino'),
    target: z.string().min(1),
    options: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    type: z.literal('webhook'),
    name: z.string().regex(/^[a-z0-9-]+$/),
    url: z.url(),
    batchSize: z.number().int().positive().optional(),
    flushMs: z.number().int().positive().optional(),
    headers: z.record(z.string(), z.string()).optional(),
    maxBackoffMs: z.number().int().positive().optional(),
  }),
]);

/** Who hears of a request waiting for approval, and of what becomes of it (src/notify/). */
const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });
const Notify = z
  .strictObject({
    /** Slack-compatible incoming webhook: one message per request waiting for approval. */
    slack_webhook_url: HttpUrl.optional(),
    /** Generic JSON events, signed (Kubegate-Signature) with the secret in webhook_secret_file. */
    webhook_url: HttpUrl.optional(),
    webhook_secret_file: z.string().min(1).optional(),
  })
  .superRefine((n, ctx) => {
    if (n.webhook_url && !n.webhook_secret_file)
      ctx.addIssue({ code: 'custom', path: ['webhook_secret_file'], message: 'required with webhook_url' });
  });

/** How long decided requests, dry runs and rollback snapshots are kept (rollback works this long). */
const RetentionDays = z.number().min(1).max(3650).default(30);

const State = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('file'), path: z.string(), retention_days: RetentionDays }),
  z.strictObject({
    type: z.literal('kubernetes'),
    namespace: z.string().default('kubegate-system'),
    /** With `clusters`: which one keeps kubegate's state (default: the first). */
    cluster: z.string().optional(),
    retention_days: RetentionDays,
  }),
]);

/** The allowed `type` values of each tagged section, for an error that lists them. */
const TYPES_AT: [RegExp, readonly string[]][] = [
  [/^state\.type$/, State.options.map((o) => o.shape.type.value)],
  [/^audit\.sinks\.\d+\.type$/, Sink.options.map((o) => o.shape.type.value)],
];

function issueMessage(i: z.core.$ZodIssue, key: string): string {
  if (i.code === 'unrecognized_keys') return `${key}: unknown key(s) ${i.keys.join(', ')}`;
  if (i.code === 'invalid_value') return `${key}: expected one of ${i.values.map(String).join(', ')}`;
  const allowed = i.code === 'invalid_union' ? TYPES_AT.find(([re]) => re.test(key))?.[1] : undefined;
  if (allowed) return `${key}: expected one of ${allowed.join(', ')}`;
  return `${key}: ${i.message}`;
}

const UpstreamSchema = z.strictObject({
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  url: z.url().optional(),
  ca: z.string().optional(),
  token_file: z.string().optional(),
});

/** A cluster name is one DNS label: it is a path segment (/clusters/NAME/) and an approval audience. */
const ClusterName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS label (lower case letters, digits, -)');

/** One upstream of several, with its labels (policy input) and the settings it overrides. */
const ClusterSchema = z.strictObject({
  name: ClusterName,
  labels: z.record(z.string(), z.string()).default({}),
  upstream: UpstreamSchema,
  /** This cluster's client CA: a certificate it issued is a user here (and on no other cluster). */
  client_ca: z.string().optional(),
  safety: z
    .strictObject({
      production_namespaces: z.array(z.string()).optional(),
      block_production: z.boolean().optional(),
    })
    .optional(),
  execution: z
    .strictObject({
      hold_seconds: z.number().min(0).max(600).optional(),
      require_dry_run: z.boolean().optional(),
    })
    .optional(),
});

export type ClusterConfig = z.infer<typeof ClusterSchema>;
export type UpstreamConfig = z.infer<typeof UpstreamSchema>;

export const ConfigSchema = z.strictObject({
  listen: z
    .strictObject({
      address: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8443),
    })
    .prefault({}),
  tls: z.strictObject({
    cert: z.string(),
    key: z.string(),
    /**
     * The cluster's client CA. When set, callers may authenticate with a client certificate it
     * issued; kubegate verifies it and acts upstream as that user by impersonation.
     */
    client_ca: z.string().optional(),
  }),
  upstream: UpstreamSchema.prefault({}),
  /** This kubegate's name: the approval tokens' audience (and the one cluster's name without `clusters`). */
  cluster_name: z.string().min(1).default('kubegate'),
  /** Several upstreams behind one kubegate, each at /clusters/NAME/ (instead of `upstream`). */
  clusters: z.array(ClusterSchema).min(1).optional(),
  policy: z.strictObject({ bundle: z.string(), watch: z.boolean().default(true) }),
  approvers: z.strictObject({ jwks: z.string() }),
  audit: z.strictObject({
    path: z.string(),
    key: z.string().optional(),
    checkpoint_every: z.number().int().positive().default(100),
    fsync: z.enum(['group', 'each']).default('group'),
    /** none: reads leave no record; metadata: one record per read (caller, verb, target, status), not awaited. */
    reads: z.enum(['none', 'metadata']).default('none'),
    sinks: z.array(Sink).default([]),
    /** record: every exec/attach session is written as an asciicast beside the audit log (off by default). */
    sessions: z.enum(['off', 'record']).default('off'),
    /** The size cap of one session's recording; the session is closed when it is reached. */
    session_max_bytes: z
      .number()
      .int()
      .min(4096)
      .default(16 * 1024 * 1024),
  }),
  notify: Notify.optional(),
  state: State.optional(),
  execution: z
    .strictObject({
      auto_approve_low_risk: z.boolean().default(true),
      require_dry_run: z.boolean().default(false),
      hold_seconds: z.number().min(0).max(600).default(30),
      /** After a Deployment/StatefulSet change, wait this long for the rollout to settle (0: do not check). */
      validate_rollout_seconds: z.number().min(0).max(3600).default(0),
      max_token_ttl_seconds: z.number().int().positive().max(86_400).default(900),
      /** A request nobody approved or rejected in this long expires: its requester asks again by re-running it. */
      pending_expiry_seconds: z
        .number()
        .int()
        .min(10)
        .max(30 * 86_400)
        .default(86_400),
    })
    .prefault({}),
  safety: z
    .strictObject({
      block_production: z.boolean().default(true),
      production_namespaces: z.array(z.string()).default(['production', 'prod', 'live']),
      allow_critical: z.boolean().default(false),
      require_approval: z.boolean().default(true),
    })
    .prefault({}),
  limits: z
    .strictObject({
      max_body_bytes: z
        .number()
        .int()
        .positive()
        .default(3 * 1024 * 1024),
      /** Request bodies held in memory at once, per caller and in all (past either: 429). */
      max_body_bytes_per_caller: z
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024),
      max_body_bytes_in_flight: z
        .number()
        .int()
        .positive()
        .default(256 * 1024 * 1024),
      /**
       * Reads forwarded and not yet ended (watches, long lists, followed logs hold theirs), per
       * caller and in all: each holds an upstream connection (past either: 429).
       */
      max_reads_in_flight_per_caller: z.number().int().positive().default(1000),
      max_reads_in_flight: z.number().int().positive().default(10_000),
      max_held_requests: z.number().int().positive().default(1000),
      /** What held requests may keep (their bodies and live objects), per requester and in all. */
      max_held_bytes_per_caller: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
      max_held_bytes: z
        .number()
        .int()
        .positive()
        .default(512 * 1024 * 1024),
      identity_cache_seconds: z.number().min(0).default(10),
    })
    .prefault({}),
  /** The approval console (/kubegate/ui/): its public URL is the passkeys' origin and RP id. */
  console: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Default https://localhost:<port>: a passkey needs a host name, not an IP address. */
      url: z.url({ protocol: /^https$/ }).optional(),
    })
    .prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates a parsed config; relative paths resolve against `baseDir`. */
export function parseConfig(raw: unknown, baseDir = process.cwd()): Config {
  const r = ConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    const msgs = r.error.issues.map((i) => issueMessage(i, i.path.join('.') || '(root)'));
    throw new ConfigError(`invalid kubegate config:\n  ${msgs.join('\n  ')}`);
  }
  const c = r.data;
  const abs = (p: string) => path.resolve(baseDir, p);
  c.tls = {
    cert: abs(c.tls.cert),
    key: abs(c.tls.key),
    ...(c.tls.client_ca ? { client_ca: abs(c.tls.client_ca) } : {}),
  };
  c.policy.bundle = abs(c.policy.bundle);
  c.approvers.jwks = abs(c.approvers.jwks);
  c.audit.path = abs(c.audit.path);
  if (c.audit.key) c.audit.key = abs(c.audit.key);
  absUpstream(c.upstream, 'upstream', abs);
  for (const [i, cl] of (c.clusters ?? []).entries()) {
    absUpstream(cl.upstream, `clusters.${i}.upstream`, abs);
    if (cl.client_ca) cl.client_ca = abs(cl.client_ca);
  }
  if (c.state?.type === 'file') c.state.path = abs(c.state.path);
  if (c.notify?.webhook_secret_file) c.notify.webhook_secret_file = abs(c.notify.webhook_secret_file);
  checkClusters(c);
  return c;
}

function absUpstream(u: UpstreamConfig, key: string, abs: (p: string) => string): void {
  if (u.kubeconfig) u.kubeconfig = abs(u.kubeconfig);
  if (u.ca) u.ca = abs(u.ca);
  if (u.token_file) u.token_file = abs(u.token_file);
  if (u.url && u.kubeconfig) throw new ConfigError(`${key}: give either url (+ ca) or kubeconfig, not both`);
}

/** `clusters` replaces `upstream`; names are unique; the state's cluster is one of them. */
function checkClusters(c: Config): void {
  const names = c.clusters ? c.clusters.map((cl) => cl.name) : [c.cluster_name];
  if (c.clusters && Object.keys(c.upstream).length > 0)
    throw new ConfigError('give either upstream (one cluster) or clusters, not both');
  // one CA for several clusters would make a certificate of one a user of all
  if (c.clusters && c.tls.client_ca)
    throw new ConfigError('tls.client_ca: with clusters, give each cluster its own clusters[].client_ca');
  // the gate's own name is the audience of every token: no cluster may share it
  if (c.clusters && names.includes(c.cluster_name))
    throw new ConfigError(
      `clusters: "${c.cluster_name}" is cluster_name (kubegate's own name): name the cluster otherwise`,
    );
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new ConfigError(`clusters: the name "${dup}" is used twice`);
  const home = c.state?.type === 'kubernetes' ? c.state.cluster : undefined;
  if (home && !names.includes(home))
    throw new ConfigError(`state.cluster: no cluster is named "${home}" (clusters: ${names.join(', ')})`);
}

export function loadConfig(file: string): Config {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config ${file}: ${(err as Error).message}`);
  }
  return parseConfig(raw, path.dirname(path.resolve(file)));
}
