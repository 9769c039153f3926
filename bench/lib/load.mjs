// Load generation with autocannon (programmatic API). Latencies are taken from autocannon's
// per-response event (process.hrtime, sub-millisecond) rather than its histogram, which keeps
// whole milliseconds only.
//
// TLS: autocannon always connects with `rejectUnauthorized: false` (lib/httpClient.js), so a CA
// cannot be enforced for the load itself; the CA and token of every endpoint are verified by a
// normal request in the setup (bench/run.mjs) before any load is sent to it.
import autocannon from 'autocannon';
import { headersFor } from './http.mjs';
import { cpuMs, cpuSysMs } from './rss.mjs';
import { median, percentile } from './stats.mjs';

/**
 * @typedef {{ rps: number, p50: number, p99: number, mean: number, count: number,
 *   errors: number, non2xx: number, durationS: number, cpuUsPerReq: Record<string, number>,
 *   sysUsPerReq?: Record<string, number> }} LoadResult
 */

/**
 * Runs `connections` closed-loop clients for `seconds` against one endpoint.
 * @param {import('./http.mjs').Endpoint} ep
 * @param {{ path: string, method?: string, body?: string, connections: number, seconds: number,
 *   headers?: Record<string,string>, cpu?: Record<string, number> }} o  cpu: processes (name → pid)
 *   whose CPU time per request is reported
 * @returns {Promise<LoadResult>}
 */
export function runLoad(ep, o) {
  /** @type {number[]} */
  const lat = [];
  const cpuPids = Object.entries(o.cpu ?? {});
  const cpu0 = cpuPids.map(([, pid]) => cpuMs(pid));
  const sys0 = cpuPids.map(([, pid]) => cpuSysMs(pid));
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: new URL(o.path, ep.url).toString(),
        method: /** @type {any} */ (o.method ?? 'GET'),
        headers: headersFor(ep, {
          accept: 'application/json',
          ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...o.headers,
        }),
        ...(o.body !== undefined ? { body: o.body } : {}),
        connections: o.connections,
        duration: o.seconds,
        timeout: 30,
      },
      (err, result) => {
        if (err) return reject(err);
        const durationS = result.duration || o.seconds;
        const cpuUsPerReq = Object.fromEntries(
          cpuPids.map(([name, pid], i) => [name, ((cpuMs(pid) - cpu0[i]) * 1000) / Math.max(1, lat.length)]),
        );
        const sysUsPerReq = Object.fromEntries(
          cpuPids.map(([name, pid], i) => [
            name,
            ((cpuSysMs(pid) - sys0[i]) * 1000) / Math.max(1, lat.length),
          ]),
        );
        resolve({
          cpuUsPerReq,
          sysUsPerReq,
          rps: lat.length / durationS,
          p50: percentile(lat, 50),
          p99: percentile(lat, 99),
          mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1),
          count: lat.length,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          durationS,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) lat.push(ms);
    });
  });
}

/**
 * Runs every (target × round) once, interleaving targets within a round so that drift of the
 * shared machine (GC, compaction in etcd, a controller's resync) falls on all of them alike.
 * Returns, per target, the per-round results and their medians.
 * @template {string} K
 * @param {Record<K, () => Promise<LoadResult>>} targets
 * @param {number} rounds
 */
export async function interleave(targets, rounds) {
  /** @type {Record<string, LoadResult[]>} */
  const runs = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(targets)) {
      const res = await /** @type {() => Promise<LoadResult>} */ (fn)();
      if (res.errors > 0 || res.non2xx > 0)
        throw new Error(`${name}: ${res.errors} errors and ${res.non2xx} non-2xx answers under load`);
      if (!runs[name]) runs[name] = [];
      runs[name].push(res);
    }
  }
  /** @type {Record<string, { runs: LoadResult[], median: { rps: number, p50: number, p99: number, cpuUsPerReq: Record<string, number>, sysUsPerReq: Record<string, number> } }>} */
  const out = {};
  for (const [name, rs] of Object.entries(runs)) {
    const med = (/** @type {(r: LoadResult) => number} */ f) => median(rs.map(f));
    const cpu = Object.fromEntries(
      Object.keys(rs[0]?.cpuUsPerReq ?? {}).map((k) => [k, med((r) => r.cpuUsPerReq[k] ?? 0)]),
    );
    const sys = Object.fromEntries(
      Object.keys(rs[0]?.sysUsPerReq ?? {}).map((k) => [k, med((r) => r.sysUsPerReq?.[k] ?? 0)]),
    );
    out[name] = {
      runs: rs,
      median: {
        rps: med((r) => r.rps),
        p50: med((r) => r.p50),
        p99: med((r) => r.p99),
        cpuUsPerReq: cpu,
        sysUsPerReq: sys,
      },
    };
  }
  return out;
}
