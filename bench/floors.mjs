// kubegate beside its floors, side by side in the same rounds: the bare Node proxy
// (bench/bare-proxy.mjs, undici upstream as kubegate's), the same with `https.request` upstream,
// `kubectl proxy`, and optionally another kubegate build; req/s and CPU µs per request of each
// proxy and of the apiserver, and the median of per-round ratios.
// Usage: node bench/floors.mjs [DIR] [ROUNDS] [CLIENTS]
//   FLOORS_REQUEST=low: the LOW change (SSAR create) instead of the small GET
//   BASE_CLI=…/dist/cli/kubegate.js: another build beside them (e.g. the commit before)
//   TARGETS=a,b: only those endpoints; SECONDS=S per run (4); BENCH_NODE_ARGS: node flags for
//   kubegate and the bare proxies alike (e.g. --cpu-prof --cpu-prof-dir=DIR)
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureNamespace, root, serveLikeDev, startDev, startKubectlProxy } from './lib/cluster.mjs';
import { mustCall } from './lib/http.mjs';
import { interleave, runLoad } from './lib/load.mjs';
import { killAllNow, startProc, stopAll } from './lib/procs.mjs';
import { childrenByName } from './lib/rss.mjs';
import { ensureSmallObject, GET_PATH } from './scenarios/get.mjs';
import { SSAR_BODY, SSAR_PATH } from './scenarios/mutation.mjs';

const low = process.env.FLOORS_REQUEST === 'low';
/** what each client sends, again and again */
const REQUEST = low ? { path: SSAR_PATH, method: 'POST', body: SSAR_BODY } : { path: GET_PATH };

const dir = process.argv[2] ?? mkdtempSync(path.join(os.tmpdir(), 'kg-floors-'));
const rounds = Number(process.argv[3] ?? 3);
const clients = Number(process.argv[4] ?? 32);
const logDir = path.join(dir, 'logs');
mkdirSync(logDir, { recursive: true });
process.on('exit', killAllNow);
const log = (s) => process.stderr.write(`${s}\n`);

async function bare(script, direct, extra = []) {
  const caFile = path.join(dir, 'up-ca.crt');
  writeFileSync(caFile, direct.ca);
  const { proc, match } = await startProc({
    name: path.basename(script, '.mjs') + extra.map((x) => `-${x}`).join(''),
    cmd: process.execPath,
    // BENCH_NODE_ARGS (e.g. --cpu-prof) applies to the bare proxies too, to compare like with like
    args: [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      path.join(root, 'bench', script),
      path.join(dir, 'certs', 'serving.crt'),
      path.join(dir, 'certs', 'serving.key'),
      direct.url,
      caFile,
      ...extra,
    ],
    logDir,
    ready: /listening (\d+)/,
  });
  const ca = readFileSync(path.join(dir, 'certs', 'ca.crt'));
  return {
    pid: proc.child.pid,
    ep: { name: script, url: `https://127.0.0.1:${match[1]}`, ca, token: direct.token },
  };
}

try {
  log(
    `load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const dev = await startDev({ dir, logDir });
  const proxy = await startKubectlProxy({
    dir,
    logDir,
    server: dev.ep.direct.url,
    ca: dev.ep.direct.ca,
    token: dev.agentToken,
  });
  await ensureNamespace(dev.ep.admin, 'bench-get');
  await ensureSmallObject(dev.ep.admin);
  const bareProxy = await bare('bare-proxy.mjs', dev.ep.direct);
  const bareAgent = await bare('bare-proxy.mjs', dev.ep.direct, ['agent']);
  const serve = (/** @type {string} */ name, cli = undefined) =>
    serveLikeDev(dev, { dir, logDir, name, ...(cli ? { cli } : {}) });
  const kubegate = await serve('kubegate');
  const base = process.env.BASE_CLI ? await serve('base', process.env.BASE_CLI) : undefined;
  const apiserver = childrenByName(dev.proc.child.pid)['kube-apiserver'];
  const eps = {
    'bare proxy': bareProxy,
    'bare https.request': bareAgent,
    kubegate: { pid: kubegate.proc.child.pid, ep: kubegate.ep },
    'kubectl proxy': { pid: proc(proxy), ep: proxy.ep },
    ...(base ? { 'kubegate base': { pid: base.proc.child.pid, ep: base.ep } } : {}),
  };
  // TARGETS=a,b,c: only these (by name)
  if (process.env.TARGETS)
    for (const n of Object.keys(eps)) if (!process.env.TARGETS.split(',').includes(n)) delete eps[n];
  for (const e of Object.values(eps)) await mustCall(e.ep, REQUEST, [200, 201]);
  const targets = (secs) =>
    Object.fromEntries(
      Object.entries(eps).map(([n, e]) => [
        n,
        () =>
          runLoad(e.ep, {
            ...REQUEST,
            connections: clients,
            seconds: secs,
            cpu: { proxy: e.pid, apiserver },
          }),
      ]),
    );
  await interleave(targets(2), 1);
  const out = await interleave(targets(Number(process.env.SECONDS ?? 4)), rounds);
  log(
    `load ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  for (const [n, r] of Object.entries(out))
    log(
      `${n.padEnd(16)} ${r.median.rps.toFixed(0).padStart(6)} req/s  proxy ${r.median.cpuUsPerReq.proxy.toFixed(0)} µs/req  apiserver ${r.median.cpuUsPerReq.apiserver.toFixed(0)} µs/req  p50 ${r.median.p50.toFixed(2)} ms  [rps ${r.runs.map((x) => x.rps.toFixed(0)).join(',')}; cpu ${r.runs.map((x) => x.cpuUsPerReq.proxy.toFixed(0)).join(',')}]`,
    );
  // pairs measured back to back share the machine's noise: the median of per-round ratios
  const ratio = (a, b, f) => {
    const r = out[a].runs.map((x, i) => f(x) / f(out[b].runs[i])).sort((x, y) => x - y);
    return r[Math.floor(r.length / 2)].toFixed(2);
  };
  for (const [a, b] of [
    ['kubegate', 'bare proxy'],
    ['kubegate', 'kubectl proxy'],
    ['bare proxy', 'kubectl proxy'],
    ['bare https.request', 'bare proxy'],
    ['kubegate', 'kubegate base'],
  ])
    if (out[a] && out[b])
      log(
        `${a} / ${b}: req/s ${ratio(a, b, (x) => x.rps)}×, proxy CPU ${ratio(a, b, (x) => x.cpuUsPerReq.proxy)}×, apiserver CPU ${ratio(a, b, (x) => x.cpuUsPerReq.apiserver)}×`,
      );
} finally {
  await stopAll(20_000);
}
function proc(p) {
  return p.proc.child.pid;
}
