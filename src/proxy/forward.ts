import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import type httpProxy from 'http-proxy';
import { createProxyMiddleware } from 'http-proxy-middleware';
import type { KubeRequest } from '../kube/request.js';
import { StatusError, sendStatus } from '../kube/status.js';
import type { Upstream } from '../upstream.js';

/**
 * Headers that belong to one hop, never forwarded. The client's `Connection`
 * header is dropped whole rather than honoured: a client must not be able to
 * nominate (and so strip) a header kubegate decided on or adds.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect'];

const watches = new WeakSet<IncomingMessage>();

export interface Forwarder {
  /** Streams a request to the upstream. `body` is the buffered body the decision was made on. */
  web(req: IncomingMessage, res: ServerResponse, kr: KubeRequest, body?: Buffer): void;
  /** Tunnels an upgrade (WebSocket or SPDY) after the gate let it through. */
  upgrade(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    kr: KubeRequest,
    done?: (status: number, error?: string) => void,
  ): void;
}

/** Puts the canonical path and the sanitised headers on the request before it is forwarded. */
function prepare(req: IncomingMessage, kr: KubeRequest, keepUpgrade: boolean): void {
  req.url = kr.path + kr.search;
  for (const h of HOP_BY_HOP) {
    if (keepUpgrade && (h === 'connection' || h === 'upgrade')) continue;
    delete req.headers[h];
  }
}

export function createForwarder(
  upstream: Upstream,
  onError: (err: Error, req: IncomingMessage) => void,
): Forwarder {
  let server: httpProxy | undefined;
  const options = {
    target: upstream.url.origin,
    agent: upstream.agent,
    changeOrigin: true,
    secure: true,
    xfwd: false,
  };
  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    ...options,
    ejectPlugins: true, // we answer errors ourselves, as Kubernetes Status objects
    plugins: [
      (s) => {
        server = s as unknown as httpProxy;
      },
    ],
    on: {
      proxyRes(_proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) {
        // A quiet watch must still get its headers now, not with the first event:
        // http-proxy sets them right after this hook, so flush on the next turn.
        if (watches.has(req)) setImmediate(() => res.headersSent || res.flushHeaders());
      },
      proxyReq(proxyReq: ClientRequest, req: IncomingMessage) {
        // A decided body is sent as a fixed-length buffer, whatever framing the client used.
        if (req.headers['content-length'] !== undefined) proxyReq.removeHeader('transfer-encoding');
      },
      error(err: Error, req: IncomingMessage, resOrSocket: ServerResponse | Socket) {
        onError(err, req);
        if ('writeHead' in resOrSocket) {
          sendStatus(
            resOrSocket,
            new StatusError(502, 'ServiceUnavailable', `upstream API server unreachable: ${err.message}`),
          );
        } else {
          resOrSocket.destroy();
        }
      },
    },
  });

  return {
    web(req, res, kr, body) {
      prepare(req, kr, false);
      if (kr.verb === 'watch') watches.add(req);
      if (!body) return void proxy(req, res); // reads stream straight through
      // A mutation's body was read and decided on: forward exactly those bytes.
      delete req.headers['transfer-encoding'];
      req.headers['content-length'] = String(body.length);
      server!.web(req, res, { ...options, buffer: Readable.from([body]) });
    },

    upgrade(req, socket, head, kr, done) {
      prepare(req, kr, true);
      // http-proxy only tunnels GET WebSocket upgrades; kubectl also uses SPDY over POST, so we
      // open the upstream upgrade ourselves and splice the two sockets once both sides agreed.
      const headers = { ...req.headers, host: upstream.url.host };
      const up = https.request({
        host: upstream.url.hostname,
        port: upstream.url.port || 443,
        method: req.method,
        path: req.url,
        headers,
        ...(upstream.ca ? { ca: upstream.ca } : {}),
        agent: false, // an upgraded socket never goes back to a pool
      });
      const fail = (err: Error) => {
        onError(err, req);
        done?.(0, err.message);
        if (!socket.destroyed) {
          const msg = JSON.stringify(
            new StatusError(
              502,
              'ServiceUnavailable',
              `upstream API server unreachable: ${err.message}`,
            ).toStatus(),
          );
          socket.end(
            `HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(msg)}\r\nconnection: close\r\n\r\n${msg}`,
          );
        }
      };
      up.on('error', fail);
      socket.on('error', () => up.destroy());
      up.on('upgrade', (upRes, upSocket, upHead) => {
        done?.(101);
        // client bytes go upstream only once the upstream switched protocols (never as a second request)
        if (head.length) upSocket.write(head);
        socket.write(rawHead(upRes));
        if (upHead.length) socket.write(upHead);
        upSocket.on('error', () => socket.destroy());
        socket.on('close', () => upSocket.destroy());
        upSocket.on('close', () => socket.destroy());
        upSocket.pipe(socket).pipe(upSocket);
      });
      // The upstream refused to upgrade (e.g. no kubelet, forbidden): relay its answer unchanged.
      up.on('response', (upRes) => {
        done?.(upRes.statusCode ?? 0);
        socket.write(rawHead(upRes, true));
        upRes.pipe(socket);
        // no upgrade: this upstream connection must carry nothing else
        upRes.on('end', () => up.destroy());
      });
      up.end();
    },
  };
}

/** The status line and headers of an upstream response, as raw HTTP/1.1. */
function rawHead(res: IncomingMessage, close = false): string {
  let out = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    // the body is relayed decoded and delimited by closing the socket
    if (close && (name === 'connection' || name === 'keep-alive' || name === 'transfer-encoding')) continue;
    out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (close) out += 'connection: close\r\n';
  return `${out}\r\n`;
}
