import http from 'node:http';
import https from 'node:https';
import { jsonOrText } from '../wire/json-or-text.js';
import type { Endpoint } from './env.js';
import { CliError } from './errors.js';

export interface HttpResponse {
  status: number;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

/** A long-lived answer (server-sent events): its status, then its body as it arrives. */
export interface HttpStream {
  status: number;
  body: AsyncIterable<Buffer | string>;
}

/** The one thing approve-cli needs from HTTP; tests pass their own. */
export interface Transport {
  request(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<HttpResponse>;
  /** A GET whose body keeps coming until the server ends it or `signal` aborts (watch). */
  stream?(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<HttpStream>;
}

const TIMEOUT_MS = 15_000;
/** kubegate pings a stream every 15 s: three missed pings mean the connection is gone. */
const STREAM_IDLE_MS = 45_000;
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

/** The request options for one call to the endpoint: its CA, and any base path of KUBEGATE_URL. */
function requestOptions(
  endpoint: Endpoint,
  method: string,
  path: string,
  headers: Record<string, string>,
  timeout = TIMEOUT_MS,
): https.RequestOptions {
  const { url } = endpoint;
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname.replace(/\/+$/, '')}${path}`,
    headers,
    timeout,
    ...(endpoint.ca !== undefined ? { ca: endpoint.ca } : {}),
  };
}

const libFor = (url: URL) => (url.protocol === 'https:' ? https : http);

/**
 * node:https (or node:http for a loopback test URL, see resolveRemote) with the
 * endpoint's CA. Any base path in KUBEGATE_URL prefixes every request path.
 */
export function nodeTransport(endpoint: Endpoint): Transport {
  const { url } = endpoint;
  return {
    request(method, path, headers, body) {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const options = requestOptions(endpoint, method, path, {
        accept: 'application/json',
        ...headers,
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      });
      return new Promise<HttpResponse>((resolve, reject) => {
        const req = libFor(url).request(options, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY) req.destroy(new Error('kubegate answer is too large'));
            else chunks.push(c);
          });
          res.on('error', (err) => reject(new CliError(describeNetworkError(err, url))));
          res.on('end', () => {
            resolve({
              status: res.statusCode ?? 0,
              body: jsonOrText(Buffer.concat(chunks).toString('utf8')),
            });
          });
        });
        req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
        req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(describeNetworkError(err, url))));
        req.end(payload);
      });
    },
    stream: (path, headers, signal) => openStream(endpoint, path, headers, signal),
  };
}

/** A GET that resolves once the headers arrive; its body is read as it comes (errors end it). */
function openStream(
  endpoint: Endpoint,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<HttpStream> {
  const { url } = endpoint;
  const options = requestOptions(
    endpoint,
    'GET',
    path,
    { accept: 'text/event-stream', ...headers },
    STREAM_IDLE_MS,
  );
  return new Promise<HttpStream>((resolve, reject) => {
    const req = libFor(url).request({ ...options, signal }, (res) => {
      res.on('error', () => undefined); // its reader gets the error (a drop) from the iterator
      resolve({ status: res.statusCode ?? 0, body: res });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new CliError(describeNetworkError(err, url))));
    req.end();
  });
}
