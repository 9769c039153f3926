// A bare Node https server that holds every request it receives (reads the body, never answers):
// the floor for "N requests held open, one TLS connection each" in Node, whatever kubegate keeps
// per request. Appends one `{"event":"held"}` line per received request to FILE, like the audit
// log's held records, so bench/scenarios/held.mjs counts both the same way.
// Usage: node bench/held-baseline.mjs CERT KEY FILE  → prints "listening PORT"
import { appendFileSync, readFileSync } from 'node:fs';
import https from 'node:https';

const [cert, key, file] = process.argv.slice(2);
const server = https.createServer(
  { cert: readFileSync(cert), key: readFileSync(key), requestTimeout: 0, headersTimeout: 30_000 },
  (req) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => appendFileSync(file, '{"event":"held"}\n'));
  },
);
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
