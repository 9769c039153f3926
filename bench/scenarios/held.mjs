// 10,000 held requests: MEDIUM changes (ConfigMap creates with distinct names, as the agent)
// that wait for an approval that never comes, each on its own TLS connection. kubegate's RSS is
// read once every request is held (counted by the audit log's "held" records).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectH2 } from '../lib/h2load.mjs';
import { headersFor } from '../lib/http.mjs';
import { rssBytes, sampleRss } from '../lib/rss.mjs';

const NS = 'bench-held';

/** Counts `"event":"held"` lines appended to an audit log, reading only what is new. */
function heldCounter(/** @type {string} */ file) {
  let offset = 0;
  let rest = '';
  let held = 0;
  const buf = Buffer.alloc(4 * 1024 * 1024);
  return () => {
    if (!existsSync(file)) return 0;
    const size = statSync(file).size;
    if (size <= offset) return held;
    const fd = openSync(file, 'r');
    try {
      while (offset < size) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
        if (n <= 0) break;
        offset += n;
        const lines = (rest + buf.toString('utf8', 0, n)).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) if (l.includes('"event":"held"')) held++;
      }
    } finally {
      closeSync(fd);
    }
    return held;
  };
}

/**
 * @param {import('../lib/http.mjs').Endpoint} ep  a dedicated kubegate (long hold, high limit)
 * @param {{ pid: number, auditPath: string, count: number, holdSeconds: number, window: number,
 *   log: (s: string) => void, h2Sessions?: number }} o  h2Sessions: send over that many HTTP/2
 *   connections (requests multiplexed, as client-go does) instead of one TLS connection each
 */
export async function benchHeld(ep, o) {
  const count = heldCounter(o.auditPath);
  const base = count();
  await sleep(1000);
  const rssIdle = rssBytes(o.pid);
  const agent = new https.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY, ca: ep.ca });
  const url = new URL(`/api/v1/namespaces/${NS}/configmaps`, ep.url);
  /** @type {Record<string, number>} */
  const answered = {};
  let errors = 0;
  /** @type {{ destroy(): void }[]} */
  const reqs = [];
  const sessions = o.h2Sessions
    ? await Promise.all(Array.from({ length: o.h2Sessions }, () => connectH2(ep)))
    : [];
  const prefix = o.h2Sessions ? 'held-h2' : 'held';
  const send = (/** @type {number} */ i) => {
    const body = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${prefix}-${i}` },
      data: { i: String(i) },
    });
    if (sessions.length) return sendH2(sessions[i % sessions.length], body);
    const req = https.request(url, {
      method: 'POST',
      agent,
      headers: headersFor(ep, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        accept: 'application/json',
      }),
    });
    req.on('response', (res) => {
      answered[res.statusCode ?? 0] = (answered[res.statusCode ?? 0] ?? 0) + 1;
      res.resume();
    });
    req.on('error', () => {
      errors++;
    });
    req.end(body);
    reqs.push(req);
  };
  const sendH2 = (/** @type {import('node:http2').ClientHttp2Session} */ s, /** @type {string} */ body) => {
    const st = s.request({
      ':method': 'POST',
      ':path': url.pathname,
      ...headersFor(ep, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        accept: 'application/json',
      }),
    });
    st.on('response', (h) => {
      const code = Number(h[':status']);
      answered[code] = (answered[code] ?? 0) + 1;
      st.resume();
    });
    st.on('error', () => {
      errors++;
    });
    st.end(body);
    reqs.push({ destroy: () => st.close() });
  };

  try {
    o.log(`held: sending ${o.count} MEDIUM creates (at most ${o.window} not yet held at a time)`);
    const t0 = performance.now();
    let sent = 0;
    let held = 0;
    let lastLog = t0;
    const holdDeadline = t0 + o.holdSeconds * 1000 - 5000;
    while (held < o.count) {
      held = count() - base;
      while (sent < o.count && sent - held < o.window) send(sent++);
      const now = performance.now();
      if (now - lastLog > 10_000) {
        o.log(`held: ${held} held, ${sent} sent after ${((now - t0) / 1000).toFixed(0)}s`);
        lastLog = now;
      }
      if (now > holdDeadline || errors > 0 || Object.keys(answered).length > 0) break;
      await sleep(20);
    }
    const rampS = (performance.now() - t0) / 1000;
    o.log(`held: ${held} held after ${rampS.toFixed(1)}s; reading RSS for 3s`);
    const sampler = sampleRss(o.pid, 100);
    await sleep(3000);
    const s = await sampler.stop();
    const heldAfter = count() - base;
    return {
      requested: o.count,
      connections: o.h2Sessions ? `${o.h2Sessions} HTTP/2` : `${o.count} HTTP/1.1`,
      held: heldAfter,
      sent,
      rampSeconds: rampS,
      heldPerSecond: held / rampS,
      rssIdleMB: rssIdle / (1024 * 1024),
      rssHeldMB: s.max / (1024 * 1024),
      rssPerHeldKB: (s.max - rssIdle) / Math.max(1, heldAfter) / 1024,
      answeredEarly: answered,
      clientErrors: errors,
    };
  } finally {
    for (const r of reqs) r.destroy();
    for (const s of sessions) s.destroy();
    agent.destroy();
  }
}
