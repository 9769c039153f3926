// A bare Node https → https pass-through (keep-alive agent, no policy, no audit): the floor for the
// CPU a Node proxy in kubegate's place spends per request on this machine (two TLS hops, two HTTP
// parses), printed beside kubegate's own figure for the LOW mutation.
// Usage: node bench/bare-proxy.mjs CERT KEY UPSTREAM_URL UPSTREAM_CA  → prints "listening PORT"
import { readFileSync } from 'node:fs';
import https from 'node:https';

const [cert, key, upstream, ca] = process.argv.slice(2);
const up = new URL(upstream);
const agent = new https.Agent({ keepAlive: true, ca: readFileSync(ca), maxSockets: 64 });
const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
  const out = https.request(
    { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  out.on('error', () => res.destroy());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
