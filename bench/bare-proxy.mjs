// A bare Node https → https pass-through (no policy, no audit): the floor for the CPU a Node proxy in
// kubegate's place spends per request on this machine (two TLS hops, two HTTP parses). Its upstream
// client is an undici Pool, as kubegate's is; with `agent` as the fifth argument it uses
// `https.request` with a keep-alive agent instead (about a quarter more CPU per request here).
// Usage: node bench/bare-proxy.mjs CERT KEY UPSTREAM_URL UPSTREAM_CA [agent]  → prints "listening PORT"
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Pool } from 'undici';

const [cert, key, upstream, caFile, client] = process.argv.slice(2);
const ca = readFileSync(caFile);
/** Headers of one hop, which undici (rightly) refuses to send on. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'upgrade']);

function viaAgent() {
  const up = new URL(upstream);
  const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 64 });
  return (req, res) => {
    const out = https.request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
}

function viaPool() {
  const pool = new Pool(upstream, { connections: 64, connect: { ca } });
  return (req, res) => {
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) headers[k] = v;
    const body = req.headers['content-length'] && req.headers['content-length'] !== '0' ? req : null;
    pool
      .stream({ path: req.url, method: req.method, headers, body }, ({ statusCode, headers: theirs }) => {
        for (const h of HOP) delete theirs[h];
        res.writeHead(statusCode, theirs);
        return res;
      })
      .catch(() => res.destroy());
  };
}

const server = https.createServer(
  { cert: readFileSync(cert), key: readFileSync(key) },
  client === 'agent' ? viaAgent() : viaPool(),
);
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
