// Closed-loop load over HTTP/2 the way client-go sends it: `streams` requests in flight at once,
// multiplexed over `sessions` TLS connections (the CA is verified here, unlike autocannon's).
import http2 from 'node:http2';
import { headersFor } from './http.mjs';
import { cpuMs } from './rss.mjs';
import { percentile } from './stats.mjs';

/**
 * @param {import('./http.mjs').Endpoint} ep
 * @param {{ path: string, streams: number, seconds: number, sessions?: number,
 *   cpu?: Record<string, number> }} o
 * @returns {Promise<import('./load.mjs').LoadResult>}
 */
export async function runH2Load(ep, o) {
  const sessions = await Promise.all(Array.from({ length: o.sessions ?? 1 }, () => connectH2(ep)));
  const headers = { ':path': o.path, ...headersFor(ep, { accept: 'application/json' }) };
  /** @type {number[]} */
  const lat = [];
  let errors = 0;
  let non2xx = 0;
  const cpuPids = Object.entries(o.cpu ?? {});
  const cpu0 = cpuPids.map(([, pid]) => cpuMs(pid));
  const t0 = performance.now();
  const end = t0 + o.seconds * 1000;
  const one = (/** @type {http2.ClientHttp2Session} */ s) =>
    new Promise((resolve) => {
      const started = performance.now();
      const st = s.request(headers);
      let status = 0;
      st.on('response', (h) => {
        status = Number(h[':status']);
      });
      st.on('data', () => {});
      st.on('end', () => {
        if (status >= 200 && status < 300) lat.push(performance.now() - started);
        else non2xx++;
        resolve(undefined);
      });
      st.on('error', () => {
        errors++;
        resolve(undefined);
      });
      st.end();
    });
  const worker = async (/** @type {number} */ i) => {
    const s = sessions[i % sessions.length];
    while (performance.now() < end) await one(s);
  };
  await Promise.all(Array.from({ length: o.streams }, (_, i) => worker(i)));
  const durationS = (performance.now() - t0) / 1000;
  for (const s of sessions) s.close();
  return {
    cpuUsPerReq: Object.fromEntries(
      cpuPids.map(([name, pid], i) => [name, ((cpuMs(pid) - cpu0[i]) * 1000) / Math.max(1, lat.length)]),
    ),
    rps: lat.length / durationS,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1),
    count: lat.length,
    errors,
    non2xx,
    durationS,
  };
}

/** One HTTP/2 session to an endpoint, its CA verified; refuses an endpoint that does not speak h2. */
export function connectH2(/** @type {import('./http.mjs').Endpoint} */ ep) {
  return new Promise((resolve, reject) => {
    const s = http2.connect(ep.url, { ...(ep.ca ? { ca: ep.ca } : {}) });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}
