// Body flood: 200 anonymous TLS connections each declaring a 3 MiB ConfigMap create and trickling
// it, then 40 such writes by one authenticated caller. Per phase: what each connection was
// answered and how many body bytes it had sent by then, kubegate's peak RSS growth, the latency of
// another user's GET through kubegate meanwhile, and whether anything reached the apiserver
// (ConfigMaps created, the apiserver audit log's configmap creates).
import { existsSync, readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { call } from '../lib/http.mjs';
import { MB, rssBytes, sampleRss } from '../lib/rss.mjs';
import { median, percentile } from '../lib/stats.mjs';

const PATH = '/api/v1/namespaces/default/configmaps';
const BODY_BYTES = 3 * 1024 * 1024;
const CHUNK = 64 * 1024;
const GAP_MS = 50;
const ANSWER_WAIT_MS = 5000; // after the whole body is sent
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 5000;

// A valid ConfigMap padded with JSON whitespace to exactly 3 MiB: were it forwarded by an
// authorized caller, it would really be created (and counted).
const head = JSON.stringify({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { generateName: 'flood-', labels: { 'kubegate-bench': 'flood' } },
  data: { x: 'y' },
});
const BODY = Buffer.alloc(BODY_BYTES, ' ');
BODY.write(head);

/** The message of a Kubernetes Status body, or the start of the text. */
function messageOf(/** @type {string} */ text) {
  try {
    const s = JSON.parse(text);
    return `${s.kind ?? ''} ${s.reason ?? ''}: ${s.message ?? ''}`.trim();
  } catch {
    return text.slice(0, 200);
  }
}

/**
 * One POST with a declared 3 MiB body, sent CHUNK every GAP_MS until the server answers or
 * closes, the body is sent (then ANSWER_WAIT_MS for the answer), or `deadline`.
 * @param {import('../lib/http.mjs').Endpoint} ep
 * @param {string | undefined} token
 * @param {number} deadline  Date.now() value
 */
function trickle(ep, token, deadline) {
  /** @type {{ status: number, sentAtAnswer: number, sent: number, error: string, message: string }} */
  const r = { status: 0, sentAtAnswer: -1, sent: 0, error: '', message: '' };
  return new Promise((resolve) => {
    let done = false;
    const req = https.request(new URL(PATH, ep.url), {
      method: 'POST',
      agent: false,
      ...(ep.ca ? { ca: ep.ca } : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': String(BODY_BYTES),
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
    });
    /** @type {NodeJS.Timeout} */
    let timer = setTimeout(() => finish(), Math.max(0, deadline - Date.now()));
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(r);
    };
    req.on('response', (res) => {
      r.status = res.statusCode ?? 0;
      r.sentAtAnswer = r.sent;
      let text = '';
      res.on('data', (c) => {
        if (text.length < 4096) text += c;
      });
      res.on('end', () => {
        r.message = messageOf(text);
        finish();
      });
      res.on('error', finish);
      res.on('close', finish);
    });
    req.on('error', (e) => {
      if (!done) r.error ||= /** @type {any} */ (e).code ?? e.message;
      if (!done && r.sentAtAnswer < 0) r.sentAtAnswer = r.sent;
      if (!r.status) finish();
    });
    req.on('close', () => {
      if (!r.status) finish();
    });
    (async () => {
      while (!done && !r.status && r.sent < BODY_BYTES) {
        const n = Math.min(CHUNK, BODY_BYTES - r.sent);
        req.write(BODY.subarray(r.sent, r.sent + n));
        r.sent += n;
        // count only what the server takes: wait for the socket to drain before the next chunk
        while (!done && req.writableNeedDrain) await sleep(10);
        await sleep(GAP_MS);
      }
      if (done || r.status) return;
      req.end();
      clearTimeout(timer);
      timer = setTimeout(finish, Math.max(0, Math.min(ANSWER_WAIT_MS, deadline - Date.now())));
    })();
  });
}

// Another user's GET every PROBE_EVERY_MS on a fresh TLS connection, in a worker thread so that
// the flood's own client work does not delay its timing. Latency to the end of the body;
// Infinity for a failure or no answer within PROBE_TIMEOUT_MS.
const PROBER = `
const { parentPort, workerData: w } = require('node:worker_threads');
const https = require('node:https');
const latencies = [];
let inFlight = 0;
function probe() {
  const t0 = performance.now();
  let settled = false;
  inFlight++;
  const done = (ok) => {
    if (settled) return;
    settled = true;
    inFlight--;
    clearTimeout(timer);
    latencies.push(ok ? performance.now() - t0 : Infinity);
  };
  const req = https.get(w.url, { ca: w.ca, agent: false, headers: { authorization: 'Bearer ' + w.token } }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode === 200));
    res.on('error', () => done(false));
  });
  const timer = setTimeout(() => { req.destroy(); done(false); }, w.timeoutMs);
  req.on('error', () => done(false));
}
const t = setInterval(probe, w.everyMs);
probe();
parentPort.on('message', () => {
  clearInterval(t);
  const end = () => (inFlight ? setTimeout(end, 20) : parentPort.postMessage(latencies));
  end();
});
`;

/**
 * @param {import('../lib/http.mjs').Endpoint} ep
 * @returns {{ stop(): Promise<number[]> }}
 */
function startProber(ep) {
  const w = new Worker(PROBER, {
    eval: true,
    workerData: {
      url: new URL(`${PATH}?limit=1`, ep.url).href,
      ca: ep.ca?.toString(),
      token: ep.token,
      everyMs: PROBE_EVERY_MS,
      timeoutMs: PROBE_TIMEOUT_MS,
    },
  });
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        w.once('message', (m) => {
          void w.terminate();
          resolve(m);
        });
        w.once('error', reject);
        w.postMessage('stop');
      }),
  };
}

/** UIDs of the ConfigMaps in the namespace (read by the admin straight from the apiserver). */
async function configMapUids(/** @type {import('../lib/http.mjs').Endpoint} */ admin) {
  const r = await call(admin, { path: PATH });
  return new Set((r.body?.items ?? []).map((/** @type {any} */ i) => i.metadata.uid));
}

/** Counts configmap creates appended to the apiserver audit log since it was made. */
function auditCounter(/** @type {string | undefined} */ file) {
  if (!file || !existsSync(file)) return () => undefined;
  const start = statSync(file).size;
  return () => {
    const text = readFileSync(file).subarray(start).toString('utf8');
    let anonymous = 0;
    let all = 0;
    for (const line of text.split('\n')) {
      if (!line.includes('"configmaps"')) continue;
      try {
        const e = JSON.parse(line);
        if (e.verb !== 'create' || e.objectRef?.resource !== 'configmaps') continue;
        all++;
        if (e.user?.username === 'system:anonymous') anonymous++;
      } catch {
        // a partly written last line
      }
    }
    return { anonymous, all };
  };
}

/**
 * @param {{ kubegate: import('../lib/http.mjs').Endpoint, admin: import('../lib/http.mjs').Endpoint }} ep
 * @param {{ pid: number, apiserverAudit?: string, log: (s: string) => void }} o
 * @param {{ name: string, count: number, token?: string, seconds: number }} p
 */
async function phase(ep, o, p) {
  // another user: the admin's token, through kubegate
  const reader = { ...ep.kubegate, token: ep.admin.token };
  await call(reader, { path: `${PATH}?limit=1` }); // its identity cached, as for a caller at work
  const before = await configMapUids(ep.admin);
  const audit = auditCounter(o.apiserverAudit);
  const rssBase = rssBytes(o.pid);
  o.log(
    `flood: ${p.name}: ${p.count} connections × ${BODY_BYTES / MB} MiB (RSS ${(rssBase / MB).toFixed(0)} MB)`,
  );
  const t0 = Date.now();
  const deadline = t0 + p.seconds * 1000;
  const sampler = sampleRss(o.pid, PROBE_EVERY_MS);
  const prober = startProber(reader);
  const results = await Promise.all(
    Array.from({ length: p.count }, () => trickle(ep.kubegate, p.token, deadline)),
  );
  const seconds = (Date.now() - t0) / 1000;
  const latencies = await prober.stop();
  await sleep(1000); // memory freed late counts too; the apiserver writes its audit log
  const s = await sampler.stop();
  const after = await configMapUids(ep.admin);

  /** @type {Record<string, number>} */
  const statuses = {};
  /** @type {Record<string, string>} */
  const messages = {};
  for (const r of results) {
    const k = r.status
      ? String(r.status)
      : r.error
        ? `error ${r.error}`
        : r.sent < BODY_BYTES
          ? 'no answer by the deadline'
          : `no answer ${ANSWER_WAIT_MS / 1000}s after the body`;
    statuses[k] = (statuses[k] ?? 0) + 1;
    if (r.status && !messages[k]) messages[k] = r.message;
  }
  // body bytes sent when the answer came, or when the server closed without one
  const accepted = results.filter((r) => r.sentAtAnswer >= 0).map((r) => r.sentAtAnswer);
  const out = {
    connections: p.count,
    bodyBytes: BODY_BYTES,
    seconds,
    statuses,
    messages,
    acceptedMedianKB: median(accepted) / 1024,
    acceptedMaxKB: accepted.length ? Math.max(...accepted) / 1024 : Number.NaN,
    acceptedTotalMB: accepted.reduce((a, b) => a + b, 0) / MB,
    rssBaseMB: rssBase / MB,
    rssGrowthMB: Math.max(0, s.max - rssBase) / MB,
    rssPeakMB: s.max / MB,
    rssSamples: s.n,
    reads: latencies.length,
    readsFailed: latencies.filter((l) => !Number.isFinite(l)).length,
    readMaxMs: latencies.length ? Math.max(...latencies) : Number.NaN,
    readP99Ms: percentile(latencies, 99),
    created: [...after].filter((u) => !before.has(u)).length,
    apiserverAudit: audit() ?? null,
  };
  o.log(
    `flood: ${p.name}: ${JSON.stringify(statuses)} in ${seconds.toFixed(1)}s, ` +
      `RSS +${out.rssGrowthMB.toFixed(0)} MB, read max ${out.readMaxMs.toFixed(0)} ms`,
  );
  return out;
}

/**
 * @param {{ kubegate: import('../lib/http.mjs').Endpoint, admin: import('../lib/http.mjs').Endpoint }} ep
 * @param {{ pid: number, apiserverAudit?: string, log: (s: string) => void }} o
 */
export async function benchFlood(ep, o) {
  await sleep(1000);
  const anonymous = await phase(ep, o, { name: 'anonymous', count: 200, seconds: 25 });
  await sleep(2000);
  const authenticated = await phase(ep, o, {
    name: 'authenticated',
    count: 40,
    token: ep.kubegate.token,
    seconds: 20,
  });
  return { anonymous, authenticated };
}
