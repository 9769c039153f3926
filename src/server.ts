import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { type KubeRequest, parseRequest } from './kube/request.js';
import { asStatusError, StatusError, sendStatus } from './kube/status.js';
import type { Forwarder } from './proxy/forward.js';

/**
 * Decides what happens to one parsed request before it is forwarded. Returns the
 * body to forward (the exact bytes that were decided on), or throws a StatusError.
 * `after` is called with the upstream's answer so the outcome can be recorded.
 */
export interface Gate {
  admit(req: IncomingMessage, kr: KubeRequest, signal: AbortSignal): Promise<Admission>;
}

export interface Admission {
  body?: Buffer;
  /** Extra response headers for the caller (e.g. a Warning naming the class and audit id). */
  headers?: Record<string, string>;
  /** Called once the upstream answered (status) or failed (error). */
  done?: (outcome: { status: number; error?: string; durationMs: number }) => void;
}

export interface ServerDeps {
  /** clientCa: when set, callers may present a client certificate it issued (verified, never required). */
  tls: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** Establishes the caller's upstream credentials (the client-certificate stage) or throws a StatusError. */
  credentials?: (req: IncomingMessage, kr: KubeRequest) => void;
  forwarder: Forwarder;
  gate: Gate;
  /** Handles kubegate's own API under /kubegate/ (approvals, health). */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
  logger: Logger;
  maxHeaderBytes?: number;
}

/**
 * The whole request path in one place: parse → gate (identify, decide, hold,
 * audit) → forward → record. Reads and writes take the same path; the gate is
 * what tells them apart.
 */
export function createServer(deps: ServerDeps): https.Server {
  const { forwarder, gate, logger } = deps;

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (deps.api && (req.url === '/kubegate' || req.url?.startsWith('/kubegate/'))) {
      deps.api(req, res);
      return;
    }
    const started = performance.now();
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    let kr: KubeRequest;
    let admission: Admission;
    try {
      kr = parseRequest(req);
      deps.credentials?.(req, kr);
      admission = await gate.admit(req, kr, abort.signal);
    } catch (err) {
      const se = asStatusError(err);
      if (se.code >= 500) logger.error({ err }, 'request failed inside kubegate');
      sendStatus(res, se);
      req.resume();
      return;
    }
    if (abort.signal.aborted) {
      admission.done?.({
        status: 0,
        error: 'client went away before forwarding',
        durationMs: performance.now() - started,
      });
      return;
    }
    for (const [k, v] of Object.entries(admission.headers ?? {})) res.setHeader(k, v);
    if (admission.done) {
      const done = admission.done;
      res.once('finish', () => done({ status: res.statusCode, durationMs: performance.now() - started }));
      res.once('close', () => {
        // closed before the answer was complete: the outcome is unknown, never "success"
        if (!res.writableFinished)
          done({
            status: 0,
            error: 'connection closed before the upstream answer completed',
            durationMs: performance.now() - started,
          });
      });
    }
    forwarder.web(req, res, kr, admission.body);
  }

  async function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const abort = new AbortController();
    socket.on('close', () => abort.abort());
    socket.on('error', () => abort.abort());
    const started = performance.now();
    let kr: KubeRequest;
    let admission: Admission;
    try {
      // An upgrade carries no body, and a client sends nothing before the 101: bytes that came
      // early would reach the upstream as a second, undecided request.
      if (
        head.length > 0 ||
        req.headers['transfer-encoding'] ||
        Number(req.headers['content-length'] ?? 0) > 0
      ) {
        throw new StatusError(
          400,
          'BadRequest',
          'an upgrade request must not carry a body or data before the upgrade',
        );
      }
      kr = parseRequest(req);
      deps.credentials?.(req, kr);
      admission = await gate.admit(req, kr, abort.signal);
    } catch (err) {
      writeStatusToSocket(socket, asStatusError(err));
      return;
    }
    const done = admission.done;
    if (abort.signal.aborted) {
      done?.({
        status: 0,
        error: 'client went away before forwarding',
        durationMs: performance.now() - started,
      });
      return;
    }
    forwarder.upgrade(req, socket, head, kr, (status, error) =>
      done?.({ status, durationMs: performance.now() - started, ...(error ? { error } : {}) }),
    );
  }

  const server = https.createServer(
    {
      cert: deps.tls.cert,
      key: deps.tls.key,
      // A client certificate is asked for but optional: token callers send none. Verification is
      // against the cluster's client CA only; an unverified one is refused per request (401).
      ...(deps.tls.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: deps.tls.clientCa } : {}),
      maxHeaderSize: deps.maxHeaderBytes ?? 64 * 1024,
      // long watches and held requests are normal; only the header phase is bounded
      requestTimeout: 0,
      headersTimeout: 30_000,
      keepAliveTimeout: 65_000,
    },
    (req, res) =>
      void onRequest(req, res).catch((err: unknown) => {
        // a bug must cost one request, never the process (and every held request with it)
        logger.error({ err, method: req.method, url: req.url }, 'request handler failed');
        if (!res.headersSent)
          sendStatus(res, new StatusError(500, 'InternalError', 'kubegate failed on this request'));
        else res.destroy();
      }),
  );
  server.on(
    'upgrade',
    (req: IncomingMessage, socket: Socket, head: Buffer) =>
      void onUpgrade(req, socket, head).catch((err: unknown) => {
        logger.error({ err, method: req.method, url: req.url }, 'upgrade handler failed');
        socket.destroy();
      }),
  );
  // Malformed HTTP (bad framing, oversized headers, smuggling attempts) is answered, never forwarded.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const reason =
      code === 431 ? 'request headers too large' : `malformed HTTP request (${err.code ?? err.message})`;
    // Answer first, close later ("lingering close"): a client still sending a huge header would
    // get a reset instead of the answer if kubegate closed while its bytes were unread. So the
    // Status goes out now, and the socket is closed once the client has been quiet for 200 ms
    // (at most 3 s); what arrives meanwhile is read and dropped, never parsed.
    const body = JSON.stringify(new StatusError(code, 'BadRequest', reason).toStatus());
    socket.write(
      `HTTP/1.1 ${code} ${code === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    let quiet: NodeJS.Timeout | undefined;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(quiet);
      clearTimeout(cap);
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    };
    const cap = setTimeout(close, 3000).unref();
    const restartQuiet = () => {
      if (closed) return; // still drained (never left unread), but no new timer
      clearTimeout(quiet);
      quiet = setTimeout(close, 200).unref();
    };
    socket.on('data', restartQuiet);
    socket.resume();
    restartQuiet();
  });
  server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
  // One identity per connection: no TLS 1.2 renegotiation (which could swap the client certificate).
  server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
  return server;
}

function writeStatusToSocket(socket: Socket, err: StatusError): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${err.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
