// LIST of ~50 MB (60 ConfigMaps of ~850 KB): time to first and last byte direct, through kubegate
// and through kubectl proxy, and kubegate's peak RSS growth while it streams the list.
import { randomBytes } from 'node:crypto';
import { mustCall, open } from '../lib/http.mjs';
import { MB, rssBytes, sampleRss } from '../lib/rss.mjs';
import { median } from '../lib/stats.mjs';

const NS = 'bench-list';
const PATH = `/api/v1/namespaces/${NS}/configmaps`;

/** Creates `count` ConfigMaps of `bytes` (random base64, incompressible) unless they exist. */
async function fill(
  /** @type {import('../lib/http.mjs').Endpoint} */ admin,
  /** @type {number} */ count,
  /** @type {number} */ bytes,
) {
  const names = Array.from({ length: count }, (_, i) => `big-${String(i).padStart(3, '0')}`);
  const work = [...names];
  const worker = async () => {
    for (let name = work.shift(); name; name = work.shift()) {
      const data = randomBytes(Math.floor((bytes * 3) / 4)).toString('base64');
      await mustCall(
        admin,
        {
          method: 'POST',
          path: PATH,
          body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { blob: data } },
        },
        [201, 409],
      );
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/** One LIST, read to the end and discarded. */
async function timedList(/** @type {import('../lib/http.mjs').Endpoint} */ ep) {
  const t0 = performance.now();
  const { res } = await open(ep, { path: PATH });
  const tHead = performance.now();
  let bytes = 0;
  let tFirst = 0;
  for await (const c of res) {
    if (!tFirst) tFirst = performance.now();
    bytes += c.length;
  }
  const tEnd = performance.now();
  if (res.statusCode !== 200) throw new Error(`LIST via ${ep.name}: HTTP ${res.statusCode}`);
  return { headersMs: tHead - t0, firstByteMs: tFirst - t0, lastByteMs: tEnd - t0, bytes };
}

/**
 * @param {{ direct: import('../lib/http.mjs').Endpoint, kubegate: import('../lib/http.mjs').Endpoint,
 *   proxy: import('../lib/http.mjs').Endpoint, admin: import('../lib/http.mjs').Endpoint }} ep
 * @param {{ rounds: number, kubegatePid: number, count: number, bytes: number, log: (s: string) => void }} o
 */
export async function benchList(ep, o) {
  o.log(`LIST: creating ${o.count} ConfigMaps of ${Math.round(o.bytes / 1000)} KB`);
  await fill(ep.admin, o.count, o.bytes);
  const targets = { direct: ep.direct, kubegate: ep.kubegate, proxy: ep.proxy };
  o.log('LIST: warm-up, one per target');
  for (const e of Object.values(targets)) await timedList(e);
  /** @type {Record<string, Array<Awaited<ReturnType<typeof timedList>> & { rssGrowth?: number, rssBase?: number, rssPeak?: number, samples?: number }>>} */
  const runs = { direct: [], kubegate: [], proxy: [] };
  o.log(`LIST: ${o.rounds} rounds × 3 targets`);
  for (let r = 0; r < o.rounds; r++) {
    for (const [name, e] of Object.entries(targets)) {
      if (name !== 'kubegate') {
        runs[name].push(await timedList(e));
        continue;
      }
      const base = rssBytes(o.kubegatePid);
      const sampler = sampleRss(o.kubegatePid, 10);
      const t = await timedList(e);
      const s = await sampler.stop();
      runs[name].push({
        ...t,
        rssBase: base,
        rssPeak: s.max,
        rssGrowth: Math.max(0, s.max - base),
        samples: s.n,
      });
    }
  }
  const med = (/** @type {string} */ name, /** @type {(r: any) => number} */ f) => median(runs[name].map(f));
  return {
    bytes: runs.direct[0]?.bytes ?? 0,
    runs,
    median: Object.fromEntries(
      Object.keys(targets).map((n) => [
        n,
        { lastByteMs: med(n, (r) => r.lastByteMs), firstByteMs: med(n, (r) => r.firstByteMs) },
      ]),
    ),
    rssGrowthMedianMB: med('kubegate', (r) => r.rssGrowth) / MB,
    rssGrowthMaxMB: Math.max(...runs.kubegate.map((r) => r.rssGrowth ?? 0)) / MB,
  };
}
