// Watch delivery delay: one watch straight to the apiserver and one through kubegate, opened at
// the same resourceVersion; the admin changes ConfigMaps straight at the apiserver and each
// event's arrival time on both streams is compared (same process, same clock).
import { setTimeout as sleep } from 'node:timers/promises';
import { mustCall, open } from '../lib/http.mjs';
import { percentile } from '../lib/stats.mjs';

const NS = 'bench-watch';

/**
 * Opens a watch and records performance.now() for each event line, keyed by type/name/rv.
 * Does not wait for the response: kubegate sends a watch's response headers only together with
 * the first event (see the report), so waiting would stall before any change is made.
 * @param {import('../lib/http.mjs').Endpoint} ep
 * @param {string} rv
 */
function watchStream(ep, rv) {
  /** @type {Map<string, number>} */
  const arrivals = new Map();
  const t0 = performance.now();
  const state = { headersMs: Number.NaN, status: 0 };
  /** @type {import('node:http').ClientRequest | undefined} */
  let request;
  const opened = open(ep, {
    path: `/api/v1/namespaces/${NS}/configmaps?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`,
  }).then(({ req, res }) => {
    request = req;
    state.headersMs = performance.now() - t0;
    state.status = res.statusCode ?? 0;
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (/** @type {string} */ chunk) => {
      const now = performance.now();
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) {
          const ev = JSON.parse(line);
          const m = ev.object?.metadata ?? {};
          arrivals.set(`${ev.type}/${m.name}/${m.resourceVersion}`, now);
        }
        nl = buf.indexOf('\n');
      }
    });
    res.on('error', () => {});
  });
  opened.catch(() => {});
  return { arrivals, state, opened, close: () => request?.destroy() };
}

/**
 * @param {{ direct: import('../lib/http.mjs').Endpoint, kubegate: import('../lib/http.mjs').Endpoint,
 *   admin: import('../lib/http.mjs').Endpoint }} ep
 * @param {{ changes: number, gapMs: number, log: (s: string) => void }} o
 */
export async function benchWatch(ep, o) {
  /** @type {{ quietHeaders?: { direct: number, kubegate: number } }} */
  const result = {};
  const list = await mustCall(ep.admin, { path: `/api/v1/namespaces/${NS}/configmaps?limit=1` });
  const rv = list.body.metadata.resourceVersion;
  const direct = watchStream(ep.direct, rv);
  const kubegate = watchStream(ep.kubegate, rv);
  try {
    await sleep(1000);
    // how long each watch took to answer with headers while nothing changed
    const quietHeaders = { direct: direct.state.headersMs, kubegate: kubegate.state.headersMs };
    o.log(`watch: ${o.changes} changes, one every ${o.gapMs} ms`);
    const creates = Math.ceil(o.changes / 2);
    for (let i = 0; i < o.changes; i++) {
      const name = `w-${i % creates}`;
      if (i < creates) {
        await mustCall(ep.admin, {
          method: 'POST',
          path: `/api/v1/namespaces/${NS}/configmaps`,
          body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '0' } },
        });
      } else {
        await mustCall(ep.admin, {
          method: 'PATCH',
          path: `/api/v1/namespaces/${NS}/configmaps/${name}`,
          body: { data: { v: String(i) } },
          headers: { 'content-type': 'application/merge-patch+json' },
        });
      }
      await sleep(o.gapMs);
    }
    const deadline = Date.now() + 10_000;
    while (
      Date.now() < deadline &&
      (direct.arrivals.size < o.changes || kubegate.arrivals.size < o.changes)
    ) {
      await sleep(50);
    }
    await Promise.all([direct.opened, kubegate.opened]);
    for (const w of [direct, kubegate])
      if (w.state.status !== 200) throw new Error(`watch answered HTTP ${w.state.status}`);
    result.quietHeaders = quietHeaders;
  } finally {
    direct.close();
    kubegate.close();
  }
  /** @type {number[]} */
  const delays = [];
  for (const [k, t] of direct.arrivals) {
    const tk = kubegate.arrivals.get(k);
    if (tk !== undefined) delays.push(tk - t);
  }
  return {
    ...result,
    changes: o.changes,
    direct: direct.arrivals.size,
    kubegate: kubegate.arrivals.size,
    matched: delays.length,
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    max: Math.max(...delays),
    delays,
  };
}
