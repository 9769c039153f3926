import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import YAML from 'yaml';
import { writeJwksFile } from '../approval/keys.js';
import { loadConfig } from '../config.js';
import { kubeCall } from '../kube/client.js';
import { type Running, serve } from '../serve.js';
import { loadUpstream } from '../upstream.js';
import { generateApproverKey } from '../wire/approver-key.js';
import { repoRoot } from './binaries.js';
import { type ControlPlane, startControlPlane, writeKubeconfig } from './controlplane.js';
import { type SimulatedNodes, startNodes } from './nodes.js';

export interface DevOptions {
  dir: string;
  port: number;
  /** Extra config merged over the generated kubegate.yaml (tests use this). */
  overrides?: Record<string, unknown>;
}

export interface DevHandle {
  controlPlane: ControlPlane;
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
  upstream.agent.destroy();
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

/** kubegate.yaml (paths relative to dir), with the caller's overrides merged over it. */
function writeDevConfig(
  dir: string,
  opts: DevOptions,
  cp: ControlPlane,
): { configFile: string; notifySecretFile: string | undefined } {
  const config = {
    listen: { address: '127.0.0.1', port: opts.port },
    tls: { cert: 'certs/serving.crt', key: 'certs/serving.key', client_ca: cp.clientCaFile },
    upstream: { kubeconfig: 'upstream.kubeconfig' },
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

/** Kubeconfigs for the users who go through kubegate. */
function writeUserKubeconfigs(dir: string, url: string, ca: string, cp: ControlPlane): void {
  writeKubeconfig(path.join(dir, 'kubeconfig'), url, ca, 'agent', cp.tokens.agent);
  // approvers as Kubernetes users through kubegate too: what a self-approval attempt looks like
  for (const u of ['alice', 'bob'] as const)
    writeKubeconfig(path.join(dir, `${u}.kubeconfig`), url, ca, u, cp.tokens[u]);
  // a client-certificate user through kubegate (kubegate verifies it and impersonates carol upstream)
  writeKubeconfig(path.join(dir, 'carol.kubeconfig'), url, ca, 'carol', cp.carolCert);
}

/** The `env` file a shell sources to use this dev setup. */
function writeEnvFile(dir: string, env: Record<string, string>): void {
  writeFileSync(
    path.join(dir, 'env'),
    [...Object.entries(env).map(([k, v]) => `export ${k}=${v}`), ''].join('\n'),
  );
}

/**
 * `kubegate dev`: a real local control plane with kubegate in front of it, and
 * every file a user needs to try it (kubeconfigs, approver keys, an env file).
 */
export async function startDev(opts: DevOptions, logger: Logger): Promise<DevHandle> {
  const dir = path.resolve(opts.dir);
  const keys = path.join(dir, 'keys');
  mkdirSync(keys, { recursive: true, mode: 0o700 });

  logger.info({ dir }, 'starting local control plane (etcd, kube-apiserver, kube-controller-manager)');
  const cp = await startControlPlane(path.join(dir, 'cluster'));
  let nodes: SimulatedNodes | undefined;
  try {
    await bootstrapRbac(cp);
    logger.info('starting simulated nodes (kwok)');
    nodes = await startNodes(cp, path.join(dir, 'cluster'));
    const certs = ensureDevCerts(dir);
    await ensureApproverKeys(dir, keys);
    ensureAuditKey(keys);

    const upstreamKubeconfig = path.join(dir, 'upstream.kubeconfig');
    writeKubeconfig(upstreamKubeconfig, cp.url, cp.caFile, 'kubegate', cp.tokens.kubegate);
    const adminKubeconfig = path.join(dir, 'admin.kubeconfig');
    writeKubeconfig(adminKubeconfig, cp.url, cp.caFile, 'admin', cp.tokens.admin);

    const auditPath = path.join(dir, 'audit', 'actions-log.jsonl');
    mkdirSync(path.dirname(auditPath), { recursive: true });
    const { configFile, notifySecretFile } = writeDevConfig(dir, opts, cp);
    mkdirSync(path.join(dir, 'state'), { recursive: true });

    const kubegate = await serve(loadConfig(configFile), logger);
    const url = `https://127.0.0.1:${kubegate.port}`;
    const ca = path.join(certs, 'ca.crt');
    writeUserKubeconfigs(dir, url, ca, cp);
    writeEnvFile(dir, {
      KUBECONFIG: path.join(dir, 'kubeconfig'),
      KUBEGATE_URL: url,
      // a passkey's origin needs a host name: the console is opened as localhost, not 127.0.0.1
      KUBEGATE_CONSOLE_URL: `https://localhost:${kubegate.port}`,
      KUBEGATE_CA: ca,
      KUBEGATE_CLUSTER: 'kubegate',
      KUBEGATE_METRICS_URL: `${url}/kubegate/metrics`,
      KUBEGATE_AUDIT: auditPath,
      KUBEGATE_ADMIN_KUBECONFIG: adminKubeconfig,
      KUBEGATE_CONFIG: configFile,
      KUBEGATE_APISERVER_AUDIT: cp.auditLog,
      KUBEGATE_NODE_LOGS: nodes.logsFile,
      KUBEGATE_NODE_EXEC_DIR: nodes.execDir,
    });
    return {
      controlPlane: cp,
      kubegate,
      ...(notifySecretFile && { notifySecretFile }),
      async stop() {
        await kubegate.close();
        await nodes?.stop();
        await cp.stop();
      },
    };
  } catch (err) {
    await nodes?.stop();
    await cp.stop();
    throw err;
  }
}
