// Policy evaluation alone: µs per decision for realistic inputs, in a process of its own.
// Inputs are built the way kubegate builds them (parseRequest + buildInput from dist/).
// Usage: node bench/policy-eval.mjs [iterations]  → one JSON object on stdout.
//        node bench/policy-eval.mjs --dump DIR    → writes each input to DIR/<name>.json, e.g. for
//        `opa eval --profile -d policies/ -i DIR/pod-create.json data.kubegate.decision`
// BENCH_POLICY_BUNDLE=DIR evaluates another compiled bundle (policy.wasm + data.json) than dist/policy.
// Beside each figure it prints two floors measured in the same process: an empty policy on the
// same input (the cost of moving the input into wasm), and a pure-CPU loop of the same median
// (this machine's scheduling noise at that duration).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parseRequest } from '../dist/kube/request.js';
import { PolicyEngine } from '../dist/policy/engine.js';
import { buildInput } from '../dist/policy/input.js';
import { percentile } from './lib/stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const iterations = Number(process.argv[2] ?? 20_000);
const warmup = Math.max(1000, iterations / 10);

const user = {
  username: 'agent',
  uid: 'uid-agent',
  groups: ['kubegate:agents', 'system:authenticated'],
  extra: {},
};
/** the cluster part of the input (kubegate dev's defaults) */
const config = {
  name: 'kubegate',
  labels: {},
  safety: { production_namespaces: ['production', 'prod', 'live'], block_production: true },
};

const labels = { app: 'api', tier: 'backend', team: 'payments' };
const container = (/** @type {string} */ name, /** @type {number} */ port) => ({
  name,
  image: `registry.example.com/payments/${name}:1.42.3@sha256:${'ab'.repeat(32)}`,
  command: ['/bin/server'],
  args: ['--port', String(port), '--log-level=info', '--config=/etc/app/config.yaml'],
  ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
  env: [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'DB_HOST', value: 'postgres.payments.svc.cluster.local' },
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    { name: 'GOMAXPROCS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
  ],
  envFrom: [{ configMapRef: { name: 'api-config' } }],
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  volumeMounts: [
    { name: 'config', mountPath: '/etc/app', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ],
  livenessProbe: { httpGet: { path: '/healthz', port }, initialDelaySeconds: 10, periodSeconds: 10 },
  readinessProbe: { httpGet: { path: '/ready', port }, periodSeconds: 5 },
  securityContext: {
    runAsNonRoot: true,
    runAsUser: 10001,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
  imagePullPolicy: 'IfNotPresent',
});
const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'api-7d9f8c6b5-x2k4p',
    namespace: 'staging',
    labels,
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' },
  },
  spec: {
    serviceAccountName: 'api',
    automountServiceAccountToken: false,
    securityContext: { fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [{ ...container('migrate', 8081), command: ['/bin/migrate'] }],
    containers: [container('api', 8080), container('sidecar-proxy', 15001)],
    volumes: [
      { name: 'config', configMap: { name: 'api-config' } },
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
    ],
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'payments', effect: 'NoSchedule' }],
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              labelSelector: { matchLabels: labels },
              topologyKey: 'kubernetes.io/hostname',
            },
          },
        ],
      },
    },
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
  },
};
const liveScale = {
  kind: 'Scale',
  apiVersion: 'autoscaling/v1',
  metadata: {
    name: 'api',
    namespace: 'staging',
    uid: '5f1f0d2e-3c1b-4e8e-9a55-0b7c1d2e3f40',
    resourceVersion: '48213',
    creationTimestamp: '2026-11-20T09:12:44Z',
  },
  spec: { replicas: 3 },
  status: { replicas: 3, selector: 'app=api,tier=backend,team=payments' },
};

/** @param {string} method @param {string} url @param {string} contentType */
const kr = (method, url, contentType = '') =>
  parseRequest({
    method,
    url,
    headers: contentType ? { 'content-type': contentType } : {},
    rawHeaders: contentType ? ['Content-Type', contentType] : [],
  });

const cases = {
  'scale patch': buildInput(
    kr(
      'PATCH',
      '/apis/apps/v1/namespaces/staging/deployments/api/scale?fieldManager=kubectl-scale',
      'application/merge-patch+json',
    ),
    user,
    { spec: { replicas: 5 } },
    liveScale,
    config,
  ),
  'pod create': buildInput(
    kr('POST', '/api/v1/namespaces/staging/pods?fieldManager=kubectl-create', 'application/json'),
    user,
    pod,
    null,
    config,
  ),
  list: buildInput(kr('GET', '/api/v1/namespaces/staging/pods?limit=500'), user, null, null, config),
};

if (process.argv[2] === '--dump') {
  const out = path.resolve(process.argv[3] ?? '.');
  mkdirSync(out, { recursive: true });
  for (const [name, input] of Object.entries(cases)) {
    writeFileSync(path.join(out, `${name.replace(/ /g, '-')}.json`), `${JSON.stringify(input, null, 2)}\n`);
  }
  process.exit(0);
}

/** Compiles bench/empty-policy with the OPA CLI from the Go build cache into a bundle dir. */
function emptyBundle() {
  const opa = path.join(
    process.env.KUBEGATE_BIN ??
      path.join(process.env.KUBEGATE_CACHE ?? path.join(os.homedir(), '.cache', 'kubegate'), 'bin'),
    'opa',
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubegate-empty-policy-'));
  const tar = path.join(dir, 'bundle.tar.gz');
  execFileSync(opa, [
    'build',
    '-t',
    'wasm',
    '-e',
    'kubegate/decision',
    path.join(root, 'bench', 'empty-policy'),
    '-o',
    tar,
  ]);
  execFileSync('tar', ['-xzf', tar, '-C', dir, '--no-same-owner', '/policy.wasm', '/data.json'], {
    stdio: 'ignore',
  });
  return dir;
}

/**
 * µs per call of each function, measured side by side: iteration i times every function once, in
 * turn, so a burst of noise from the rest of the machine falls on the policy and its floors alike.
 * @param {(() => unknown)[]} fns
 */
function measureSideBySide(fns) {
  for (const f of fns) for (let i = 0; i < warmup; i++) f();
  const us = fns.map(() => new Float64Array(iterations));
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < fns.length; j++) {
      const t0 = process.hrtime.bigint();
      fns[j]();
      us[j][i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
  }
  return us;
}

/** A pure-CPU loop (no allocation, no wasm) of about the given median: this machine's tail at that duration. */
function cpuLoop(/** @type {number} */ medianUs) {
  let n = 1000;
  const spin = () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.sqrt(i + s);
    return s;
  };
  for (let i = 0; i < warmup; i++) spin();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) spin();
  const perSpin = Number(process.hrtime.bigint() - t0) / 1000 / 200;
  n = Math.max(1, Math.round((n * medianUs) / perSpin));
  return spin;
}

/** Median µs of f over a short run (to size the CPU loop). @param {() => unknown} f */
function medianOf(f) {
  const us = new Float64Array(Math.min(2000, iterations));
  for (let i = 0; i < us.length; i++) {
    const t0 = process.hrtime.bigint();
    f();
    us[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return percentile(us, 50);
}

const silent = pino({ level: 'silent' });
const bundle = process.env.BENCH_POLICY_BUNDLE ?? path.join(root, 'dist', 'policy');
const engine = await PolicyEngine.load(bundle, silent);
const empty = await PolicyEngine.load(emptyBundle(), silent);
/** @type {Record<string, object>} */
const out = {};
for (const [name, input] of Object.entries(cases)) {
  const d = engine.decide(input);
  const policy = () => engine.decide(input);
  for (let i = 0; i < warmup; i++) policy();
  const [us, floor, noise] = measureSideBySide([
    policy,
    () => empty.decide(input),
    cpuLoop(medianOf(policy)),
  ]);
  const p50 = percentile(us, 50);
  out[name] = {
    risk: d.risk,
    reasons: d.reasons,
    p50,
    p99: percentile(us, 99),
    mean: us.reduce((a, b) => a + b, 0) / us.length,
    n: iterations,
    inputBytes: JSON.stringify(input).length,
    emptyPolicy: { p50: percentile(floor, 50), p99: percentile(floor, 99) },
    cpuNoise: { p50: percentile(noise, 50), p99: percentile(noise, 99) },
  };
}
engine.close();
empty.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
