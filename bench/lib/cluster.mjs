// The processes under test: `kubegate dev` (control plane + kubegate), extra kubegates from a
// copy of its config (`kubegate serve`), and `kubectl proxy` straight to the apiserver.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { mustCall, readEnvFile, readKubeconfig } from './http.mjs';
import { startProc } from './procs.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const binDir =
  process.env.KUBEGATE_BIN ??
  path.join(process.env.KUBEGATE_CACHE ?? path.join(os.homedir(), '.cache', 'kubegate'), 'bin');
const cli = path.join(root, 'dist', 'cli', 'kubegate.js');

/** node flags for kubegate processes (e.g. --cpu-prof) */
function nodeArgs(/** @type {{ cpuProf?: string }} */ o, /** @type {string} */ name) {
  // BENCH_NODE_ARGS: extra node flags for every kubegate, e.g. --heapsnapshot-signal=SIGUSR2
  const extra = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  if (!o.cpuProf) return extra;
  return [...extra, '--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`, `--cpu-prof-name=${name}.cpuprofile`];
}

/**
 * Starts `kubegate dev` in `dir` and returns the endpoints of the run.
 * @param {{ dir: string, logDir: string, cpuProf?: string }} o
 */
export async function startDev(o) {
  const { proc, match } = await startProc({
    name: 'kubegate-dev',
    cmd: process.execPath,
    args: [...nodeArgs(o, 'kubegate-dev'), cli, 'dev', '--dir', o.dir, '--port', '0'],
    logDir: o.logDir,
    // since several clusters: "(NAME: URL)"; before: "(upstream URL)"
    ready: /kubegate dev ready at (https:\/\/\S+) \((?:upstream|[\w.-]+:) (https:\/\/\S+)\)/,
    group: true, // etcd, kube-apiserver and kube-controller-manager are its children
    timeoutMs: 300_000,
  });
  const env = readEnvFile(path.join(o.dir, 'env'));
  const agent = readKubeconfig(env.KUBECONFIG);
  const admin = readKubeconfig(env.KUBEGATE_ADMIN_KUBECONFIG);
  /** @type {Record<'direct' | 'kubegate' | 'admin', import('./http.mjs').Endpoint>} */
  const ep = {
    direct: { name: 'direct', url: admin.server, ca: admin.ca, token: agent.token },
    kubegate: { name: 'kubegate', url: match[1], ca: readFileSync(env.KUBEGATE_CA), token: agent.token },
    admin: { name: 'admin', url: admin.server, ca: admin.ca, token: admin.token },
  };
  return { proc, env, ep, agentToken: agent.token };
}

function deepMerge(/** @type {any} */ into, /** @type {any} */ from) {
  for (const [k, v] of Object.entries(from)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && into[k] && typeof into[k] === 'object') {
      deepMerge(into[k], v);
    } else into[k] = v;
  }
  return into;
}

/**
 * startServe from the dev kubegate's own config, CA and agent token, with no overrides.
 * @param {{ env: Record<string, string | undefined>, agentToken: string }} dev
 * @param {{ dir: string, logDir: string, name: string, cli?: string }} o
 */
export function serveLikeDev(dev, o) {
  return startServe({
    ...o,
    overrides: {},
    configFile: /** @type {string} */ (dev.env.KUBEGATE_CONFIG),
    caFile: /** @type {string} */ (dev.env.KUBEGATE_CA),
    token: dev.agentToken,
  });
}

/**
 * A second kubegate in front of the same apiserver: the dev config with its own port, audit log
 * and state file, plus `overrides`.
 * @param {{ dir: string, logDir: string, name: string, overrides: Record<string, unknown>,
 *   configFile: string, caFile: string, token: string, cpuProf?: string, env?: NodeJS.ProcessEnv,
 *   cli?: string }} o  cli: another build's dist/cli/kubegate.js (comparing commits)
 */
export async function startServe(o) {
  const config = deepMerge(YAML.parse(readFileSync(o.configFile, 'utf8')), {
    listen: { port: 0 },
    audit: { path: `audit-${o.name}/actions-log.jsonl` },
    state: { type: 'file', path: `state-${o.name}/kubegate.db` },
    policy: { watch: false },
  });
  deepMerge(config, o.overrides);
  mkdirSync(path.join(o.dir, `state-${o.name}`), { recursive: true });
  const file = path.join(o.dir, `kubegate-${o.name}.yaml`);
  writeFileSync(file, YAML.stringify(config));
  const { proc, match } = await startProc({
    name: `kubegate-${o.name}`,
    cmd: process.execPath,
    args: [...nodeArgs(o, `kubegate-${o.name}`), o.cli ?? cli, 'serve', '--config', file],
    logDir: o.logDir,
    ...(o.env ? { env: o.env } : {}),
    ready: /"port":(\d+)[^\n]*"msg":"kubegate listening"/,
    timeoutMs: 60_000,
  });
  /** @type {import('./http.mjs').Endpoint} */
  const ep = {
    name: `kubegate-${o.name}`,
    url: `https://127.0.0.1:${match[1]}`,
    ca: readFileSync(o.caFile),
    token: o.token,
  };
  return { proc, ep, auditPath: path.join(o.dir, `audit-${o.name}`, 'actions-log.jsonl') };
}

/**
 * `kubectl proxy` with the agent's token straight to the apiserver (no policy, no audit).
 * @param {{ dir: string, logDir: string, server: string, ca: Buffer, token: string }} o
 */
export async function startKubectlProxy(o) {
  const kubeconfig = path.join(o.dir, 'agent-direct.kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${o.server}
    certificate-authority-data: ${o.ca.toString('base64')}
users:
- name: agent
  user:
    token: ${o.token}
contexts:
- name: agent@local
  context: {cluster: local, user: agent}
current-context: agent@local
`,
    { mode: 0o600 },
  );
  const { proc, match } = await startProc({
    name: 'kubectl-proxy',
    cmd: path.join(binDir, 'kubectl'),
    args: ['--kubeconfig', kubeconfig, 'proxy', '--port=0', '--address=127.0.0.1'],
    logDir: o.logDir,
    ready: /Starting to serve on 127\.0\.0\.1:(\d+)/,
    timeoutMs: 30_000,
  });
  /** @type {import('./http.mjs').Endpoint} */
  const ep = { name: 'kubectl proxy', url: `http://127.0.0.1:${match[1]}` };
  return { proc, ep };
}

/** A namespace made by the admin (straight to the apiserver); an existing one is fine. */
export async function ensureNamespace(
  /** @type {import('./http.mjs').Endpoint} */ admin,
  /** @type {string} */ ns,
) {
  await mustCall(
    admin,
    {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    },
    [201, 409],
  );
}
