import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { writeJwksFile } from '../approval/keys.js';
import { ConfigError, loadConfig } from '../config.js';
import { kubeCall } from '../kube/client.js';
import { addContext, writeKubeconfigFile } from '../kubeconfig.js';
import { type Running, serve } from '../serve.js';
import { closeUpstream, loadUpstream } from '../upstream.js';
import { generateApproverKey } from '../wire/approver-key.js';
import { repoRoot } from './binaries.js';
import { type ControlPlane, startControlPlane, type UserName, writeKubeconfig } from './controlplane.js';
import { type SimulatedNodes, startNodes } from './nodes.js';

export interface DevOptions {
  dir: string;
  port: number;
  /** Extra config merged over the generated kubegate.yaml (tests use this). */
  overrides?: Record<string, unknown>;
  /** `--clusters staging,prod`: one control plane each, all behind one kubegate (default: one, unnamed). */
  clusters?: string[];
}

/** One local control plane behind the dev kubegate, and its files. */
export interface DevCluster {
  name: string;
  controlPlane: ControlPlane;
  nodes: SimulatedNodes;
  /** kubegate's own credentials for it, and the admin's (straight to its apiserver). */
  upstreamKubeconfig: string;
  adminKubeconfig: string;
}

export interface DevHandle {
  /** The first cluster's control plane. */
  controlPlane: ControlPlane;
  clusters: DevCluster[];
  kubegate: Running;
  /** The notify webhook's signing secret, when dev made one (notify.webhook_url without a file). */
  notifySecretFile?: string;
  stop(): Promise<void>;
}

function deepMerge(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      cur &&
      typeof cur === 'object' &&
      !Array.isArray(cur)
    ) {
      deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>);
    } else into[k] = v;
  }
}

/** RBAC for the local cluster: the agent gets cluster-admin (the worst case kubegate must contain). */
/** What a dev approver may undo as themself: workload and config changes; Secrets stay unreadable. */
const APPROVER_UNDO = {
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name: 'kubegate-approver-undo' },
  rules: [
    {
      apiGroups: [''],
      resources: ['configmaps', 'services'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    },
    {
      apiGroups: ['apps'],
      resources: [
        'deployments',
        'deployments/scale',
        'statefulsets',
        'statefulsets/scale',
        'daemonsets',
        'replicasets',
      ],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    },
  ],
};

async function bootstrapRbac(cp: ControlPlane): Promise<void> {
  const upstream = loadUpstream({ url: cp.url, caFile: cp.caFile });
  const auth = `Bearer ${cp.tokens.admin}`;
  const bindings = [
    { name: 'kubegate-agents-admin', role: 'cluster-admin', group: 'kubegate:agents' },
    { name: 'kubegate-approvers-view', role: 'view', group: 'kubegate:approvers' },
    { name: 'kubegate-proxies-admin', role: 'cluster-admin', group: 'kubegate:proxies' },
    // carol (client certificate) may change namespaced objects, as a developer would
    { name: 'kubegate-developers-edit', role: 'edit', group: 'kubegate:developers' },
    // a rollback runs as the approver who asked for it (impersonated, by the approver's name):
    // their own RBAC bounds what it may undo (workloads and config, never Secrets)
    { name: 'kubegate-approvers-undo', role: APPROVER_UNDO.metadata.name, users: ['alice', 'bob'] },
  ];
  const role = await kubeCall(upstream, {
    method: 'POST',
    path: '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    authorization: auth,
    body: APPROVER_UNDO,
  });
  if (role.status !== 201 && role.status !== 409)
    throw new Error(
      `creating ${APPROVER_UNDO.metadata.name}: HTTP ${role.status} ${JSON.stringify(role.body)}`,
    );
  for (const b of bindings) {
    const r = await kubeCall(upstream, {
      method: 'POST',
      path: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      authorization: auth,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: b.name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: b.role },
        subjects:
          'users' in b && b.users
            ? b.users.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name }))
            : [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: b.group }],
      },
    });
    if (r.status !== 201 && r.status !== 409)
      throw new Error(`creating ${b.name}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }
  closeUpstream(upstream);
}

/** kubegate's serving certificate and its CA (made once, kept across runs). */
function ensureDevCerts(dir: string): string {
  const certs = path.join(dir, 'certs');
  if (!existsSync(path.join(certs, 'serving.crt'))) {
    execFileSync('bash', [path.join(repoRoot, 'certs', 'make-dev-certs.sh'), certs], { stdio: 'ignore' });
  }
  return certs;
}

/** alice's and bob's approver keys, and the JWKS kubegate trusts them by (made once). */
async function ensureApproverKeys(dir: string, keys: string): Promise<void> {
  const jwks = path.join(dir, 'approvers.jwks.json');
  if (existsSync(jwks)) return;
  const pubs = [];
  for (const name of ['alice', 'bob']) {
    const { privateJwk, publicJwk } = await generateApproverKey(name);
    writeFileSync(path.join(keys, `${name}.jwk`), `${JSON.stringify(privateJwk, null, 2)}\n`, {
      mode: 0o600,
    });
    pubs.push(publicJwk);
  }
  writeJwksFile(jwks, pubs);
}

/** The audit log's signing key and its public half (made once). */
function ensureAuditKey(keys: string): void {
  const auditKey = path.join(keys, 'audit-key.pem');
  if (existsSync(auditKey)) return;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(auditKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(path.join(keys, 'audit-key.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
}

/**
 * `--set notify.webhook_url=URL` alone: a signing secret made once in the dev dir, so the webhook
 * works at once and the receiver has something to verify with. Returns its path when it made or
 * used one.
 */
export function ensureNotifySecret(dir: string, config: Record<string, unknown>): string | undefined {
  const notify = config.notify as Record<string, unknown> | undefined;
  if (!notify?.webhook_url || notify.webhook_secret_file) return undefined;
  const file = path.join(dir, 'keys', 'notify-webhook.secret');
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  notify.webhook_secret_file = file;
  return file;
}

/** The cluster a `clusters` entry of the dev config describes (labels: env, production for prod). */
function clusterEntry(dir: string, c: DevCluster) {
  const env = ['prod', 'production'].includes(c.name) ? 'production' : c.name;
  return {
    name: c.name,
    labels: { env },
    upstream: { kubeconfig: path.relative(dir, c.upstreamKubeconfig) },
    // its own client CA: a certificate of one cluster is no user of another
    client_ca: c.controlPlane.clientCaFile,
  };
}

/** kubegate.yaml (paths relative to dir), with the caller's overrides merged over it. */
function writeDevConfig(
  dir: string,
  opts: DevOptions,
  clusters: DevCluster[],
): { configFile: string; notifySecretFile: string | undefined } {
  const first = clusters[0]!.controlPlane;
  const config = {
    listen: { address: '127.0.0.1', port: opts.port },
    tls: {
      cert: 'certs/serving.crt',
      key: 'certs/serving.key',
      ...(opts.clusters ? {} : { client_ca: first.clientCaFile }),
    },
    ...(opts.clusters
      ? { clusters: clusters.map((c) => clusterEntry(dir, c)) }
      : { upstream: { kubeconfig: 'upstream.kubeconfig' } }),
    cluster_name: 'kubegate',
    policy: { bundle: path.join(repoRoot, 'dist', 'policy') },
    approvers: { jwks: 'approvers.jwks.json' },
    // dev records exec/attach sessions (off by default elsewhere)
    audit: { path: 'audit/actions-log.jsonl', key: 'keys/audit-key.pem', sessions: 'record' },
    state: { type: 'file', path: 'state/kubegate.db' },
  };
  deepMerge(config, opts.overrides ?? {});
  const notifySecretFile = ensureNotifySecret(dir, config);
  const configFile = path.join(dir, 'kubegate.yaml');
  writeFileSync(configFile, YAML.stringify(config));
  return { configFile, notifySecretFile };
}

/** Kubeconfigs for the users who go through kubegate: one context per cluster when there are several. */
function writeUserKubeconfigs(
  dir: string,
  url: string,
  ca: string,
  clusters: DevCluster[],
  several: boolean,
): void {
  const file = (u: string) => path.join(dir, u === 'agent' ? 'kubeconfig' : `${u}.kubeconfig`);
  const first = clusters[0]!.controlPlane;
  if (!several) {
    for (const u of ['agent', 'alice', 'bob'] as const) writeKubeconfig(file(u), url, ca, u, first.tokens[u]);
    // a client-certificate user (kubegate verifies it and impersonates carol upstream)
    writeKubeconfig(file('carol'), url, ca, 'carol', first.carolCert);
    return;
  }
  for (const u of ['agent', 'alice', 'bob', 'carol'] as const) {
    const kc = new KubeConfig();
    for (const c of clusters)
      addContext(kc, {
        cluster: c.name,
        server: url,
        caFile: ca,
        user: u,
        credential:
          u === 'carol'
            ? { certFile: c.controlPlane.carolCert.cert, keyFile: c.controlPlane.carolCert.key }
            : { token: c.controlPlane.tokens[u] },
      });
    writeKubeconfigFile(file(u), kc);
  }
}

/** The `env` file a shell sources to use this dev setup. */
function writeEnvFile(dir: string, env: Record<string, string>): void {
  writeFileSync(
    path.join(dir, 'env'),
    [...Object.entries(env).map(([k, v]) => `export ${k}=${v}`), ''].join('\n'),
  );
}

/** One real local control plane (etcd, kube-apiserver, kube-controller-manager) with a simulated node. */
async function startCluster(
  dir: string,
  name: string,
  several: boolean,
  logger: Logger,
  shared: Partial<Record<UserName, string>>,
): Promise<DevCluster> {
  const base = several ? path.join(dir, 'clusters', name) : dir;
  mkdirSync(base, { recursive: true });
  logger.info(
    { dir: base, cluster: name },
    'starting local control plane (etcd, kube-apiserver, kube-controller-manager)',
  );
  const cp = await startControlPlane(path.join(base, 'cluster'), { tokens: shared });
  let nodes: SimulatedNodes | undefined;
  try {
    await bootstrapRbac(cp);
    logger.info({ cluster: name }, 'starting simulated nodes (kwok)');
    nodes = await startNodes(cp, path.join(base, 'cluster'));
    const upstreamKubeconfig = path.join(base, 'upstream.kubeconfig');
    writeKubeconfig(upstreamKubeconfig, cp.url, cp.caFile, 'kubegate', cp.tokens.kubegate);
    const adminKubeconfig = path.join(dir, several ? `admin-${name}.kubeconfig` : 'admin.kubeconfig');
    writeKubeconfig(adminKubeconfig, cp.url, cp.caFile, 'admin', cp.tokens.admin);
    return { name, controlPlane: cp, nodes, upstreamKubeconfig, adminKubeconfig };
  } catch (err) {
    await nodes?.stop();
    await cp.stop();
    throw err;
  }
}

/**
 * The people (agent, alice, bob) have one token for every cluster, as with one identity provider;
 * admin's and kubegate's own tokens are each cluster's (a token of one cluster is no one on another).
 */
function sharedTokens(started: DevCluster[]): Partial<Record<UserName, string>> {
  const first = started[0]?.controlPlane.tokens;
  return first ? { agent: first.agent, alice: first.alice, bob: first.bob } : {};
}

async function stopClusters(clusters: DevCluster[]): Promise<void> {
  for (const c of clusters) {
    await c.nodes.stop();
    await c.controlPlane.stop();
  }
}

/** Cluster names for --clusters: DNS labels, each once. */
function checkNames(names: string[]): void {
  const bad = names.find((n) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n));
  if (bad !== undefined)
    throw new ConfigError(`--clusters: ${JSON.stringify(bad)} is not a cluster name (a DNS label)`);
  if (new Set(names).size !== names.length) throw new ConfigError('--clusters: a name is given twice');
}

/**
 * `kubegate dev`: real local control planes (one, or one per `--clusters` name) with kubegate in
 * front, and every file a user needs to try it (kubeconfigs, approver keys, an env file).
 */
export async function startDev(opts: DevOptions, logger: Logger): Promise<DevHandle> {
  const dir = path.resolve(opts.dir);
  const keys = path.join(dir, 'keys');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  const several = !!opts.clusters;
  const names = opts.clusters ?? ['kubegate'];
  checkNames(names);
  const clusters: DevCluster[] = [];
  try {
    for (const name of names)
      clusters.push(await startCluster(dir, name, several, logger, sharedTokens(clusters)));
    const certs = ensureDevCerts(dir);
    await ensureApproverKeys(dir, keys);
    ensureAuditKey(keys);
    const auditPath = path.join(dir, 'audit', 'actions-log.jsonl');
    mkdirSync(path.dirname(auditPath), { recursive: true });
    const { configFile, notifySecretFile } = writeDevConfig(dir, opts, clusters);
    mkdirSync(path.join(dir, 'state'), { recursive: true });

    const kubegate = await serve(loadConfig(configFile), logger);
    const url = `https://127.0.0.1:${kubegate.port}`;
    const ca = path.join(certs, 'ca.crt');
    writeUserKubeconfigs(dir, url, ca, clusters, several);
    const first = clusters[0]!;
    writeEnvFile(dir, {
      KUBECONFIG: path.join(dir, 'kubeconfig'),
      KUBEGATE_URL: url,
      // a passkey's origin needs a host name: the console is opened as localhost, not 127.0.0.1
      KUBEGATE_CONSOLE_URL: `https://localhost:${kubegate.port}`,
      KUBEGATE_CA: ca,
      KUBEGATE_CLUSTER: 'kubegate',
      ...(several ? { KUBEGATE_CLUSTERS: names.join(',') } : {}),
      KUBEGATE_METRICS_URL: `${url}/kubegate/metrics`,
      KUBEGATE_AUDIT: auditPath,
      KUBEGATE_ADMIN_KUBECONFIG: first.adminKubeconfig,
      KUBEGATE_CONFIG: configFile,
      KUBEGATE_APISERVER_AUDIT: first.controlPlane.auditLog,
      KUBEGATE_NODE_LOGS: first.nodes.logsFile,
      KUBEGATE_NODE_EXEC_DIR: first.nodes.execDir,
    });
    return {
      controlPlane: first.controlPlane,
      clusters,
      kubegate,
      ...(notifySecretFile && { notifySecretFile }),
      async stop() {
        await kubegate.close();
        await stopClusters(clusters);
      },
    };
  } catch (err) {
    await stopClusters(clusters);
    throw err;
  }
}
