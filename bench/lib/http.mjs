// Small HTTPS helpers for setup calls and measured streams (no load generation here).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/**
 * One endpoint the bench talks to: a base URL plus how to trust and authenticate against it.
 * @typedef {{ name: string, url: string, ca?: Buffer, token?: string }} Endpoint
 */

/** The `token:` and `server:` of a kubeconfig written by `kubegate dev`. */
export function readKubeconfig(/** @type {string} */ file) {
  const text = readFileSync(file, 'utf8');
  const token = /^\s*token:\s*(\S+)\s*$/m.exec(text)?.[1];
  const server = /^\s*server:\s*(\S+)\s*$/m.exec(text)?.[1];
  const caData = /^\s*certificate-authority-data:\s*(\S+)\s*$/m.exec(text)?.[1];
  if (!token || !server || !caData) throw new Error(`${file}: no token/server/CA found`);
  return { token, server, ca: Buffer.from(caData, 'base64') };
}

/** The `export K=V` lines `kubegate dev` wrote. */
export function readEnvFile(/** @type {string} */ file) {
  /** @type {Record<string, string>} */
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^export (\w+)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/** Request headers for an endpoint (bearer token when it has one). */
export function headersFor(/** @type {Endpoint} */ ep, /** @type {Record<string,string>} */ extra = {}) {
  return { ...(ep.token ? { authorization: `Bearer ${ep.token}` } : {}), ...extra };
}

/**
 * Starts a request and hands back the response (not read). Used for watches and LISTs.
 * @param {Endpoint} ep
 * @param {{ method?: string, path: string, body?: string | Buffer, headers?: Record<string,string>,
 *   agent?: http.Agent | https.Agent | false }} o
 * @returns {Promise<{ req: http.ClientRequest, res: http.IncomingMessage }>}
 */
export function open(ep, o) {
  const u = new URL(o.path, ep.url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: o.method ?? 'GET',
        headers: headersFor(ep, {
          accept: 'application/json',
          ...(o.body !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(o.body)) }
            : {}),
          ...o.headers,
        }),
        ...(ep.ca ? { ca: ep.ca } : {}),
        agent: o.agent ?? false,
      },
      (res) => resolve({ req, res }),
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

/**
 * A whole request; the JSON body is parsed when it is JSON.
 * @param {Endpoint} ep
 * @param {{ method?: string, path: string, body?: unknown, headers?: Record<string,string>,
 *   agent?: http.Agent | https.Agent | false }} o
 * @returns {Promise<{ status: number, body: any, headers: http.IncomingHttpHeaders }>}
 */
export async function call(ep, o) {
  const body =
    o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const { res } = await open(ep, { ...o, body });
  const chunks = [];
  for await (const c of res) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.statusCode ?? 0, body: parsed, headers: res.headers };
}

/** Like call(), but throws unless the status is one of `ok`. */
export async function mustCall(
  /** @type {Endpoint} */ ep,
  /** @type {Parameters<typeof call>[1]} */ o,
  ok = [200, 201],
) {
  const r = await call(ep, o);
  if (!ok.includes(r.status)) {
    const msg = typeof r.body === 'object' ? (r.body?.message ?? JSON.stringify(r.body)) : String(r.body);
    throw new Error(`${o.method ?? 'GET'} ${o.path} via ${ep.name}: HTTP ${r.status}: ${msg.slice(0, 500)}`);
  }
  return r;
}
