// This build beside another, side by side: two `kubegate serve` from one config (this checkout's
// and BASE's dist/cli/kubegate.js), LOW changes (SSAR creates) at 1 and 32 clients and a small GET
// at 32, interleaved in the same rounds. Prints each target's medians and, per pair, the median of
// the per-round ratios (rounds measured back to back share the machine's noise).
// Usage: node bench/ab.mjs BASE_CHECKOUT [DIR] [ROUNDS] [SECONDS]
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureNamespace, serveLikeDev, startDev } from './lib/cluster.mjs';
import { mustCall } from './lib/http.mjs';
import { interleave, runLoad } from './lib/load.mjs';
import { killAllNow, stopAll } from './lib/procs.mjs';
import { ensureSmallObject, GET_PATH } from './scenarios/get.mjs';
import { checkLowMutation, SSAR_BODY, SSAR_PATH } from './scenarios/mutation.mjs';

const [baseDir, dirArg, roundsArg = '5', secondsArg = '3'] = process.argv.slice(2);
if (!baseDir) throw new Error('usage: node bench/ab.mjs BASE_CHECKOUT [DIR] [ROUNDS] [SECONDS]');
const dir = dirArg ?? mkdtempSync(path.join(os.tmpdir(), 'kubegate-ab-'));
const logDir = path.join(dir, 'logs');
mkdirSync(logDir, { recursive: true });
process.on('exit', killAllNow);
const log = (/** @type {string} */ s) => process.stderr.write(`${s}\n`);
const load = () =>
  `load ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`;

try {
  log(load());
  const dev = await startDev({ dir, logDir });
  await ensureNamespace(dev.ep.admin, 'bench-get');
  await ensureSmallObject(dev.ep.admin);
  // AB_HEAD_NODE_ARGS / AB_BASE_NODE_ARGS: node flags for one side only (A/B a V8 flag on one build)
  const serve = async (/** @type {string} */ name, /** @type {string | undefined} */ cli) => {
    const flags = process.env[`AB_${name.toUpperCase()}_NODE_ARGS`];
    const before = process.env.BENCH_NODE_ARGS;
    if (flags !== undefined) process.env.BENCH_NODE_ARGS = flags;
    try {
      return await serveLikeDev(dev, { dir, logDir, name, ...(cli ? { cli } : {}) });
    } finally {
      if (before === undefined) delete process.env.BENCH_NODE_ARGS;
      else process.env.BENCH_NODE_ARGS = before;
    }
  };
  const head = await serve('head', undefined);
  const base = await serve('base', path.resolve(baseDir, 'dist/cli/kubegate.js'));
  const kgs = { head, base };
  for (const k of Object.values(kgs)) {
    await checkLowMutation(k.ep);
    await mustCall(k.ep, { path: GET_PATH });
  }
  /** @type {Record<string, { path: string, method?: string, body?: string, connections: number }>} */
  const loads = {
    'LOW 1c': { path: SSAR_PATH, method: 'POST', body: SSAR_BODY, connections: 1 },
    'LOW 32c': { path: SSAR_PATH, method: 'POST', body: SSAR_BODY, connections: 32 },
    'GET 32c': { path: GET_PATH, connections: 32 },
  };
  for (const [what, l] of Object.entries(loads)) {
    const targets = (/** @type {number} */ seconds) =>
      Object.fromEntries(
        Object.entries(kgs).map(([n, k]) => [
          n,
          () => runLoad(k.ep, { ...l, seconds, cpu: { kubegate: /** @type {number} */ (k.proc.child.pid) } }),
        ]),
      );
    await interleave(targets(2), 1);
    const out = await interleave(targets(Number(secondsArg)), Number(roundsArg));
    for (const [n, r] of Object.entries(out))
      log(
        `${what.padEnd(8)} ${n.padEnd(5)} ${r.median.rps.toFixed(0).padStart(6)} req/s  ${(r.median.cpuUsPerReq.kubegate ?? 0).toFixed(0).padStart(5)} µs CPU/req  p99 ${r.median.p99.toFixed(2)} ms  [cpu ${r.runs.map((x) => (x.cpuUsPerReq.kubegate ?? 0).toFixed(0)).join(',')}]`,
      );
    const ratio = (/** @type {(x: import('./lib/load.mjs').LoadResult) => number} */ f) => {
      const rs = (out.head?.runs ?? [])
        .map((x, i) => f(x) / f(/** @type {any} */ (out.base?.runs[i])))
        .sort((a, b) => a - b);
      return (rs[Math.floor(rs.length / 2)] ?? Number.NaN).toFixed(3);
    };
    log(
      `${what.padEnd(8)} head/base: req/s ${ratio((x) => x.rps)}×, CPU/req ${ratio((x) => x.cpuUsPerReq.kubegate ?? 0)}×`,
    );
  }
  log(load());
} finally {
  await stopAll(20_000);
}
