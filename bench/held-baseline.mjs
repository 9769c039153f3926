// A bare Node server that holds every request it receives (reads the body, never answers): the
// floor for "N requests held open" in Node, whatever kubegate keeps per request. Appends one
// `{"event":"held"}` line per received request to FILE, like the audit log's held records, so
// bench/scenarios/held.mjs counts both the same way.
// Usage: node bench/held-baseline.mjs CERT KEY FILE [h2|h1] [CLIENT_CA]  → prints "listening PORT"
// Without h2: an https server (one TLS connection per request). With h2: an HTTP/2 server with
// HTTP/1.1 fallback, as kubegate listens, for requests multiplexed over a few connections. With
// CLIENT_CA: it asks every client for a certificate from that CA (optional, as kubegate does when
// a cluster has a client CA), to show what that handshake costs per connection.
import { appendFileSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';

const [cert, key, file, mode, clientCa] = process.argv.slice(2);
/** @param {import('node:http').IncomingMessage | import('node:http2').Http2ServerRequest} req */
const hold = (req) => {
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => appendFileSync(file, '{"event":"held"}\n'));
};
const tls = {
  cert: readFileSync(cert),
  key: readFileSync(key),
  ...(clientCa ? { requestCert: true, rejectUnauthorized: false, ca: readFileSync(clientCa) } : {}),
};
const server =
  mode === 'h2'
    ? http2.createSecureServer({ ...tls, allowHTTP1: true, maxSessionMemory: 256 }, hold)
    : https.createServer({ ...tls, requestTimeout: 0, headersTimeout: 30_000 }, hold);
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
