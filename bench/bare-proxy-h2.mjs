// bench/bare-proxy.mjs with an HTTP/2 upstream: requests multiplexed over a few node:http2
// sessions to the apiserver (as client-go and kubectl proxy do), for comparing with the HTTP/1.1
// keep-alive agent. Usage: node bench/bare-proxy-h2.mjs CERT KEY UPSTREAM_URL UPSTREAM_CA [SESSIONS]
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';

const [cert, key, upstream, ca, n] = process.argv.slice(2);
const up = new URL(upstream);
const caText = readFileSync(ca, 'utf8');
const sessions = [];
let next = 0;
const session = () => {
  const i = next++ % Number(n ?? 1);
  let s = sessions[i];
  if (!s || s.closed || s.destroyed) {
    s = http2.connect(up.origin, { ca: caText });
    s.on('error', () => {});
    sessions[i] = s;
  }
  return s;
};
const DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'te']);
const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const h = { ':method': req.method, ':path': req.url, ':authority': up.host };
  for (const k of Object.keys(req.headers)) if (!DROP.has(k)) h[k] = req.headers[k];
  const out = session().request(h, { endStream: true });
  out.on('response', (rh) => {
    const o = {};
    for (const k of Object.keys(rh)) if (k[0] !== ':') o[k] = rh[k];
    res.writeHead(rh[':status'], o);
    out.pipe(res);
  });
  out.on('error', () => res.destroy());
  res.on('close', () => out.destroy());
  req.resume();
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
