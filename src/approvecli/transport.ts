import http from 'node:http';
import https from 'node:https';
import type { Endpoint } from './env.js';
import { CliError } from './errors.js';

export interface HttpResponse {
  status: number;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

/** The one thing approve-cli needs from HTTP; tests pass their own. */
export interface Transport {
  request(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<HttpResponse>;
}

const TIMEOUT_MS = 15_000;
const MAX_BODY = 16 * 1024 * 1024;

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Turns a socket error into one line an approver can act on. */
export function describeNetworkError(err: NodeJS.ErrnoException, url: URL): string {
  const where = url.origin;
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED')
    return `cannot reach kubegate at ${where}: connection refused (is it running? check KUBEGATE_URL)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot reach kubegate at ${where}: unknown host`;
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EHOSTUNREACH')
    return `cannot reach kubegate at ${where}: ${code}`;
  if (TLS_CODES.has(code)) {
    return `cannot trust kubegate at ${where} (${code}): set KUBEGATE_CA to the CA file that signed its certificate`;
  }
  return `cannot reach kubegate at ${where}: ${err.message}`;
}

/**
 * node:https (or node:http for a loopback test URL, see resolveRemote) with the
 * endpoint's CA. Any base path in KUBEGATE_URL prefixes every request path.
 */
export function nodeTransport(endpoint: Endpoint): Transport {
  const { url } = endpoint;
  const base = url.pathname.replace(/\/+$/, '');
  return {
    request(method, path, headers, body) {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const options: https.RequestOptions = {
        method,
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${base}${path}`,
        headers: {
          accept: 'application/json',
          ...headers,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': String(payload.length) }
            : {}),
        },
        timeout: TIMEOUT_MS,
        ...(endpoint.ca !== undefined ? { ca: endpoint.ca } : {}),
      };
      const lib = url.protocol === 'https:' ? https : http;
      return new Promise<HttpResponse>((resolve, reject) => {
        const req = lib.request(options, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error('kubegate answer is too large'));
            else chunks.push(c);
          });
          res.on('error', (err) => reject(new CliError(describeNetworkError(err, url))));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : null;
            } catch {
              // not JSON: keep the text for the error message
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(describeNetworkError(err, url))));
        req.end(payload);
      });
    },
  };
}
