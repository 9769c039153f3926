// kubegate's benchmark: one run of a real local control plane with kubegate, a second and third
// kubegate (fsync=each; long holds) and kubectl proxy side by side; see bench/README.md.
// Usage: node bench/run.mjs [--rounds N] [--seconds S] [--held N] [--only get,list,...]
//                           [--dir DIR] [--keep] [--cpu-prof]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import { ensureNamespace, root, startDev, startKubectlProxy, startServe } from './lib/cluster.mjs';
import { mustCall } from './lib/http.mjs';
import { killAllNow, startProc, stopAll, stopProc } from './lib/procs.mjs';
import { childrenByName } from './lib/rss.mjs';
import { report } from './report.mjs';
import { benchFlood } from './scenarios/flood.mjs';
import { benchGet } from './scenarios/get.mjs';
import { benchHeld } from './scenarios/held.mjs';
import { benchList } from './scenarios/list.mjs';
import { benchFsync, benchLowMutation } from './scenarios/mutation.mjs';
import { benchWatch } from './scenarios/watch.mjs';

const ALL = ['policy', 'get', 'mutation', 'fsync', 'watch', 'list', 'held', 'flood'];
const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '2' },
    held: { type: 'string', default: '10000' },
    'hold-seconds': { type: 'string', default: '120' },
    'policy-iterations': { type: 'string', default: '20000' },
    only: { type: 'string', default: ALL.join(',') },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const only = new Set(args.only.split(','));
for (const s of only)
  if (!ALL.includes(s)) throw new Error(`--only: unknown scenario ${s} (have ${ALL.join(', ')})`);
const rounds = Number(args.rounds);
const seconds = Number(args.seconds);
const warmupSeconds = Number(args.warmup);

const dir = args.dir ? path.resolve(args.dir) : mkdtempSync(path.join(os.tmpdir(), 'kubegate-bench-'));
const logDir = path.join(dir, 'logs');
mkdirSync(logDir, { recursive: true });
const cpuProf = args['cpu-prof'] ? path.join(dir, 'cpu-prof') : undefined;
const started = Date.now();
const log = (/** @type {string} */ s) =>
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${s}\n`);

// Every child is stopped however the run ends.
process.on('exit', killAllNow);
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(sig, () => {
    log(`${sig}: stopping everything`);
    void stopAll(20_000).finally(() => process.exit(130));
  });
}

/** Runs bench/policy-eval.mjs in a process of its own, before the cluster starts. */
function policyEval() {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(root, 'bench', 'policy-eval.mjs'), args['policy-iterations']],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`policy-eval exited ${code}`)),
    );
  });
}

/** Fails a scenario that takes longer than `seconds` (a stalled stream must not hang the run). */
function limit(/** @type {string} */ name, /** @type {number} */ seconds, /** @type {Promise<any>} */ p) {
  /** @type {NodeJS.Timeout | undefined} */
  let t;
  const timeout = new Promise((_, reject) => {
    t = setTimeout(() => reject(new Error(`${name}: no result after ${seconds}s`)), seconds * 1000);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** bench/bare-proxy.mjs in front of the apiserver, with kubegate dev's serving certificate. */
async function startBareProxy(/** @type {import('./lib/http.mjs').Endpoint} */ direct) {
  const caFile = path.join(dir, 'bare-proxy-upstream-ca.crt');
  writeFileSync(caFile, /** @type {Buffer} */ (direct.ca));
  const { proc, match } = await startProc({
    name: 'bare-proxy',
    cmd: process.execPath,
    args: [
      path.join(root, 'bench', 'bare-proxy.mjs'),
      path.join(dir, 'certs', 'serving.crt'),
      path.join(dir, 'certs', 'serving.key'),
      direct.url,
      caFile,
    ],
    logDir,
    ready: /listening (\d+)/,
  });
  const ca = readFileSync(path.join(dir, 'certs', 'ca.crt'));
  /** @type {import('./lib/http.mjs').Endpoint} */
  const ep = { name: 'bare proxy', url: `https://127.0.0.1:${match[1]}`, ca, token: direct.token };
  return { proc, ep };
}

/**
 * The same held requests against bench/held-baseline.mjs (a bare Node server that reads each body
 * and never answers): over one TLS connection each, or (h2) over 4 HTTP/2 connections.
 * @param {import('./lib/http.mjs').Endpoint} ep  the kubegate endpoint whose CA and token to reuse
 * @param {{ count: number, holdSeconds: number, h2: boolean, clientCa?: string }} o  clientCa: ask
 *   every client for a certificate from this CA, as kubegate does when a cluster has one
 */
async function heldFloor(ep, o) {
  const file = path.join(
    dir,
    o.h2 ? 'held-baseline-h2.jsonl' : o.clientCa ? 'held-baseline-cc.jsonl' : 'held-baseline.jsonl',
  );
  const bare = await startProc({
    name: o.h2 ? 'held-baseline-h2' : 'held-baseline',
    cmd: process.execPath,
    args: [
      path.join(root, 'bench', 'held-baseline.mjs'),
      path.join(dir, 'certs', 'serving.crt'),
      path.join(dir, 'certs', 'serving.key'),
      file,
      o.h2 ? 'h2' : 'h1',
      ...(o.clientCa ? [o.clientCa] : []),
    ],
    logDir,
    ready: /listening (\d+)/,
  });
  try {
    return await limit(
      o.h2 ? 'held baseline h2' : 'held baseline',
      o.holdSeconds + 120,
      benchHeld(
        { ...ep, name: o.h2 ? 'bare http2' : 'bare https', url: `https://127.0.0.1:${bare.match[1]}` },
        {
          pid: /** @type {number} */ (bare.proc.child.pid),
          auditPath: file,
          count: o.count,
          holdSeconds: o.holdSeconds,
          window: 500,
          log,
          ...(o.h2 ? { h2Sessions: 4 } : {}),
        },
      ),
    );
  } finally {
    await stopProc(bare.proc);
  }
}

/** The client CA a kubegate.yaml names (tls.client_ca; relative paths are from the file's directory). */
function clientCaOf(/** @type {string} */ configFile) {
  const ca = YAML.parse(readFileSync(configFile, 'utf8'))?.tls?.client_ca;
  return typeof ca === 'string' ? path.resolve(path.dirname(configFile), ca) : undefined;
}

/** The directory of the audit log a kubegate.yaml names (relative paths are from the file's directory). */
function auditDirOf(/** @type {string} */ configFile) {
  const config = YAML.parse(readFileSync(configFile, 'utf8'));
  return path.dirname(path.resolve(path.dirname(configFile), config.audit.path));
}

function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'policies'], { cwd: root })
      .toString()
      .trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return 'unknown';
  }
}

async function main() {
  /** @type {Record<string, any>} */
  const results = {
    meta: {
      date: new Date().toISOString(),
      commit: gitCommit(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      kernel: os.release(),
      rounds,
      seconds,
      dir,
      loadAverageAtStart: os.loadavg(),
    },
  };
  if (os.loadavg()[0] > 1) {
    log(
      `warning: load average ${os.loadavg()[0].toFixed(1)} before the start: other processes share the ` +
        `${os.cpus().length} CPUs, so absolute numbers are low and noisy (ratios within one run still compare)`,
    );
  }
  log(`bench dir ${dir}`);

  if (only.has('policy')) {
    log(
      `policy: ${args['policy-iterations']} evaluations per input (own process, before the cluster starts)`,
    );
    results.policy = await policyEval();
  }
  const needCluster = [...only].some((s) => s !== 'policy');
  if (needCluster) {
    log('starting kubegate dev (etcd, kube-apiserver, kube-controller-manager, kubegate)');
    const dev = await startDev({ dir, logDir, ...(cpuProf ? { cpuProf } : {}) });
    const kubegatePid = /** @type {number} */ (dev.proc.child.pid);
    const proxy = await startKubectlProxy({
      dir,
      logDir,
      server: dev.ep.direct.url,
      ca: /** @type {Buffer} */ (dev.ep.direct.ca),
      token: dev.agentToken,
    });
    const ep = { ...dev.ep, proxy: proxy.ep };
    log(
      `apiserver ${ep.direct.url}, kubegate ${ep.kubegate.url} (pid ${kubegatePid}), kubectl proxy ${ep.proxy.url}`,
    );
    // each endpoint answers, with its CA verified (the load generator itself cannot verify, see lib/load.mjs)
    for (const e of [ep.direct, ep.kubegate, ep.proxy])
      await mustCall(e, { path: '/api/v1/namespaces/default' });
    for (const ns of ['bench-get', 'bench-list', 'bench-watch', 'bench-held'])
      await ensureNamespace(ep.admin, ns);
    const cp = childrenByName(kubegatePid);
    /** processes whose CPU time per request is reported (name → pid) */
    const cpu = {
      kubegate: kubegatePid,
      'kubectl proxy': /** @type {number} */ (proxy.proc.child.pid),
      apiserver: cp['kube-apiserver'],
      etcd: cp.etcd,
      'load generator': process.pid,
    };
    const o = { rounds, seconds, warmupSeconds, log, cpu };

    if (only.has('get')) results.get = await limit('get', 300, benchGet(ep, o));
    if (only.has('mutation')) {
      const auditDir = auditDirOf(dev.env.KUBEGATE_CONFIG);
      const bare = await startBareProxy(ep.direct);
      try {
        results.mutation = await limit(
          'mutation',
          420,
          benchLowMutation(
            { ...ep, bare: bare.ep },
            { ...o, auditDir, cpu: { ...cpu, 'bare proxy': /** @type {number} */ (bare.proc.child.pid) } },
          ),
        );
      } finally {
        await stopProc(bare.proc);
      }
    }
    if (only.has('fsync')) {
      log('fsync: starting a second kubegate with audit.fsync=each');
      const each = await startServe({
        dir,
        logDir,
        name: 'each',
        overrides: { audit: { fsync: 'each' } },
        configFile: dev.env.KUBEGATE_CONFIG,
        caFile: dev.env.KUBEGATE_CA,
        token: dev.agentToken,
        ...(cpuProf ? { cpuProf } : {}),
      });
      try {
        const eachPid = /** @type {number} */ (each.proc.child.pid);
        results.fsync = await limit(
          'fsync',
          300,
          benchFsync(
            { group: ep.kubegate, each: each.ep },
            { ...o, cpu: { ...cpu, 'kubegate each': eachPid } },
          ),
        );
      } finally {
        await stopProc(each.proc);
      }
    }
    if (only.has('watch'))
      results.watch = await limit('watch', 120, benchWatch(ep, { changes: 50, gapMs: 50, log }));
    if (only.has('list')) {
      results.list = {
        count: 60,
        ...(await limit('list', 300, benchList(ep, { rounds, kubegatePid, count: 60, bytes: 850_000, log }))),
      };
    }
    if (only.has('held')) {
      const holdSeconds = Number(args['hold-seconds']);
      const count = Number(args.held);
      log(`held: starting a third kubegate (hold_seconds=${holdSeconds}, max_held_requests=${2 * count})`);
      const heldKg = await startServe({
        dir,
        logDir,
        name: 'held',
        overrides: { execution: { hold_seconds: holdSeconds }, limits: { max_held_requests: 2 * count } },
        configFile: dev.env.KUBEGATE_CONFIG,
        caFile: dev.env.KUBEGATE_CA,
        token: dev.agentToken,
        ...(cpuProf ? { cpuProf } : {}),
      });
      try {
        results.held = await limit(
          'held',
          holdSeconds + 120,
          benchHeld(heldKg.ep, {
            pid: /** @type {number} */ (heldKg.proc.child.pid),
            auditPath: heldKg.auditPath,
            count,
            holdSeconds,
            window: 500,
            log,
          }),
        );
      } finally {
        await stopProc(heldKg.proc);
      }
      log(`held: ${count} requests over 4 HTTP/2 connections, a fresh kubegate`);
      const h2Kg = await startServe({
        dir,
        logDir,
        name: 'held-h2',
        overrides: { execution: { hold_seconds: holdSeconds }, limits: { max_held_requests: 2 * count } },
        configFile: dev.env.KUBEGATE_CONFIG,
        caFile: dev.env.KUBEGATE_CA,
        token: dev.agentToken,
        ...(cpuProf ? { cpuProf } : {}),
      });
      try {
        results.heldH2 = await limit(
          'held h2',
          holdSeconds + 120,
          benchHeld(h2Kg.ep, {
            pid: /** @type {number} */ (h2Kg.proc.child.pid),
            auditPath: h2Kg.auditPath,
            count,
            holdSeconds,
            window: 500,
            log,
            h2Sessions: 4,
          }),
        );
      } finally {
        await stopProc(h2Kg.proc);
      }
      log(`held: the same ${count} requests held by a bare Node https server (the floor)`);
      results.heldBaseline = await heldFloor(heldKg.ep, { count, holdSeconds, h2: false });
      log(`held: the same ${count} requests over 4 HTTP/2 connections held by a bare Node HTTP/2 server`);
      results.heldH2Baseline = await heldFloor(heldKg.ep, { count, holdSeconds, h2: true });
      const clientCa = clientCaOf(dev.env.KUBEGATE_CONFIG);
      if (clientCa) {
        log(`held: the bare https server again, asking each client for a certificate as kubegate does`);
        results.heldClientCertBaseline = await heldFloor(heldKg.ep, {
          count,
          holdSeconds,
          h2: false,
          clientCa,
        });
      }
    }
    if (only.has('flood')) {
      results.flood = await limit(
        'flood',
        120,
        benchFlood(ep, { pid: kubegatePid, apiserverAudit: dev.env.KUBEGATE_APISERVER_AUDIT, log }),
      );
    }
    log('stopping kubectl proxy and kubegate dev');
    await stopProc(proxy.proc);
    await stopProc(dev.proc);
  }
  results.meta.durationSeconds = (Date.now() - started) / 1000;
  results.meta.loadAverageAtEnd = os.loadavg();

  const { text, targets } = report(results);
  results.targets = targets;
  writeFileSync(path.join(root, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const m = results.meta;
  process.stdout.write(
    `\nkubegate benchmark — ${m.date}, commit ${m.commit}, node ${m.node}, ${m.cpus} CPUs (${m.cpuModel}), ` +
      `medians of ${rounds} interleaved rounds of ${seconds}s, ${fmtDuration(m.durationSeconds)}, ` +
      `load average before ${m.loadAverageAtStart[0].toFixed(1)}\n` +
      'direct = https to kube-apiserver with the agent token; kubegate = https to kubegate (same token); ' +
      'kubectl proxy = plain http to `kubectl proxy` (agent token, straight to the apiserver)\n\n' +
      `${text}\n\nresults: bench/results.json${cpuProf ? `; CPU profiles: ${cpuProf}` : ''}\n`,
  );
  if (!args.keep && !cpuProf) rmSync(dir, { recursive: true, force: true });
}

function fmtDuration(/** @type {number} */ s) {
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

main().then(
  () => process.exit(0),
  async (err) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? err.stack : String(err)}\nlogs: ${logDir}\n`,
    );
    await stopAll(20_000);
    process.exit(1);
  },
);
