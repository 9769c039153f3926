import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { answerError, lingeringClose } from './answer.js';
import { forExpress } from './api-over-h2.js';
import type { Target } from './chain/chain.js';
import { newContext, type RequestContext, type WebRequest, type WebResponse } from './chain/context.js';
import { writeStatus } from './chain/forward.js';
import { ClientGone, leaveWithConnection } from './client-gone.js';
import { type Cluster, type Clusters, requestCluster, setRequestCluster } from './clusters.js';
import { trackConnections } from './connections.js';
import { parseRequestRemembered } from './kube/parsed-requests.js';
import { asStatusError, StatusError, sendStatus } from './kube/status.js';

export interface ListenDeps {
  /** clientCa: when set, callers may present a client certificate it issued (verified, never required). */
  tls: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  handle: (ctx: RequestContext, to: Target) => Promise<unknown>;
  /** kubegate's own API under /kubegate/ (approvals, health). */
  api?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Every upstream; a request names its own by the path prefix /clusters/NAME/. */
  clusters: Clusters;
  logger: Logger;
  maxHeaderBytes?: number;
}

/** The listening server, with the graceful-close helpers http.Server has and Http2SecureServer lacks. */
export type KubegateServer = http2.Http2SecureServer & {
  closeIdleConnections(): void;
  closeAllConnections(): void;
};

/**
 * The listener: HTTPS in, HTTP/2 or HTTP/1.1 as the client's ALPN asks (like the apiserver), one
 * parsed request context per request, stream or upgrade, handed to the chain; every refusal
 * answered as a Kubernetes Status. Upgrades (exec, attach, port-forward) are HTTP/1.1 only, as
 * client-go sends them; HTTP/2 has no Upgrade, and CONNECT never reaches the handler.
 */
export function createListener(deps: ListenDeps): KubegateServer {
  const { logger } = deps;
  const maxHeaderBytes = deps.maxHeaderBytes ?? 64 * 1024;
  const contextOf = (req: WebRequest, cluster: Cluster | undefined, signal: ClientGone) => {
    if (!cluster) throw deps.clusters.noneNamed();
    return newContext({
      origin: 'client',
      cluster,
      kr: parseRequestRemembered(req),
      req,
      headers: req.headers,
      signal,
      holdMs: cluster.holdSeconds * 1000,
    });
  };

  async function onRequest(req: WebRequest, res: WebResponse): Promise<void> {
    const gone = new ClientGone();
    res.on('close', gone.left); // fires once; `once` would wrap it per request
    // a pipelined request's response may never close: its connection tells it instead
    if (!(req instanceof http2.Http2ServerRequest)) leaveWithConnection(req.socket, gone);
    try {
      if (req instanceof http2.Http2ServerRequest) refuseLargeHeaders(req, maxHeaderBytes);
      const cluster = routeToCluster(req, deps.clusters);
      if (cluster === API && deps.api) return toApi(req, res, deps.api);
      await deps.handle(contextOf(req, cluster === API ? requestCluster(req) : cluster, gone), {
        kind: 'web',
        res,
      });
    } catch (err) {
      answerError(req, res, err, logger);
    }
  }

  async function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const gone = new ClientGone();
    socket.on('close', gone.left);
    socket.on('error', gone.left);
    try {
      refuseEarlyData(req, head);
      const cluster = routeToCluster(req, deps.clusters);
      if (cluster === API) throw new StatusError(404, 'NotFound', 'kubegate API paths take no upgrade');
      await deps.handle(contextOf(req, cluster, gone), { kind: 'upgrade', socket, head });
    } catch (err) {
      writeStatus(socket, asStatusError(err));
    }
  }

  const server = http2.createSecureServer(
    serverOptions(deps, maxHeaderBytes),
    (req, res) =>
      void onRequest(req, res).catch((err: unknown) => {
        // a bug must cost one request, never the process (and every held request with it)
        logger.error({ err, method: req.method, url: req.url }, 'request handler failed');
        if (!res.headersSent)
          sendStatus(res, new StatusError(500, 'InternalError', 'kubegate failed on this request'));
        else res.destroy();
      }),
  );
  http1Limits(server, maxHeaderBytes);
  server.on(
    'upgrade',
    (req: IncomingMessage, socket: Socket, head: Buffer) =>
      void onUpgrade(req, socket, head).catch((err: unknown) => {
        logger.error({ err, method: req.method, url: req.url }, 'upgrade handler failed');
        socket.destroy();
      }),
  );
  onConnectionEvents(server, logger);
  return trackConnections(server);
}

/**
 * An upgrade carries no body, and a client sends nothing before the 101: bytes that came early
 * would reach the upstream as a second, undecided request.
 */
function refuseEarlyData(req: IncomingMessage, head: Buffer): void {
  if (head.length > 0 || req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 0)
    throw new StatusError(
      400,
      'BadRequest',
      'an upgrade request must not carry a body or data before the upgrade',
    );
}

/** Malformed HTTP, failed handshakes, and what every connection gets before its first request. */
function onConnectionEvents(server: http2.Http2SecureServer, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerMalformed(err, socket));
  server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'TLS handshake failed'));
  server.on('sessionError', (err) => logger.debug({ err: err.message }, 'HTTP/2 session error'));
  // Nagle off, as http.createServer does by default (Http2SecureServer's HTTP/1.1 fallback does
  // not): a watch event is a small write after another, and waiting for the client's delayed
  // ACK held events back by up to 40 ms. Set on the TCP socket, before TLS, for both protocols.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  // One identity per connection: no TLS 1.2 renegotiation (which could swap the client certificate).
  server.on('secureConnection', (socket: TLSSocket) => socket.disableRenegotiation());
}

/** What routeToCluster answers for kubegate's own API (/kubegate/…). */
const API = Symbol('kubegate API');

/**
 * Strips a `/clusters/NAME` prefix from the URL and answers the cluster it named (the only one
 * when there is no prefix and a single cluster), or API for kubegate's own API, which reads the
 * cluster back from the request (remembered for it only: a WeakMap entry per request costs).
 */
function routeToCluster(req: WebRequest, clusters: Clusters): Cluster | undefined | typeof API {
  const { cluster, url } = clusters.route(req.url ?? '/');
  req.url = url;
  if (!(url === '/kubegate' || url.startsWith('/kubegate/') || url.startsWith('/kubegate?'))) return cluster;
  if (cluster) setRequestCluster(req, cluster);
  return API;
}

function serverOptions(deps: ListenDeps, maxHeaderBytes: number): http2.SecureServerOptions {
  return {
    cert: deps.tls.cert,
    key: deps.tls.key,
    // A client certificate is asked for but optional: token callers send none. Verification is
    // against the cluster's client CA only; an unverified one is refused per request (401).
    ...(deps.tls.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: deps.tls.clientCa } : {}),
    allowHTTP1: true,
    settings: { maxHeaderListSize: maxHeaderBytes },
    // the default (10 MB) refuses new streams once a session's buffers pass it: thousands of held
    // requests on one connection are normal for client-go
    maxSessionMemory: 256,
  };
}

/** HTTP/1.1 connections read these from the server object (Http2SecureServer takes no options for them). */
function http1Limits(server: http2.Http2SecureServer, maxHeaderBytes: number): void {
  Object.assign(server, {
    maxHeaderSize: maxHeaderBytes,
    // long watches and held requests are normal; only the header phase is bounded
    requestTimeout: 0,
    headersTimeout: 30_000,
    keepAliveTimeout: 65_000,
  });
}

/** Express (kubegate's API) over HTTP/2 needs the compat objects' accessors kept (api-over-h2.ts). */
function toApi(req: WebRequest, res: WebResponse, api: NonNullable<ListenDeps['api']>): void {
  if (req instanceof http2.Http2ServerRequest) forExpress(req, res as http2.Http2ServerResponse);
  api(req as IncomingMessage, res as ServerResponse);
}

/**
 * HTTP/1.1's header cap is the parser's (431 from answerMalformed); HTTP/2 has no parser limit
 * that answers, so the same cap is counted here (HPACK's accounting: name + value + 32 each).
 */
function refuseLargeHeaders(req: http2.Http2ServerRequest, max: number): void {
  let size = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i++) size += raw[i]!.length + (i % 2 === 0 ? 32 : 0);
  if (size > max) throw new StatusError(431, 'BadRequest', 'request headers too large');
}

/** Malformed HTTP (bad framing, oversized headers, smuggling attempts) is answered, never forwarded. */
function answerMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const reason =
    code === 431 ? 'request headers too large' : `malformed HTTP request (${err.code ?? err.message})`;
  const body = JSON.stringify(new StatusError(code, 'BadRequest', reason).toStatus());
  socket.write(
    `HTTP/1.1 ${code} ${code === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  lingeringClose(socket);
}
