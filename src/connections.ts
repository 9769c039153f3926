import type { ServerResponse } from 'node:http';
import type http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { KubegateServer } from './listen.js';

/** An HTTP/1.1 connection's requests in flight, kept on the socket itself. */
const BUSY = Symbol('kubegate requests in flight');
type Tracked = TLSSocket & { [BUSY]?: number };

/**
 * Graceful close for a server speaking HTTP/2 and HTTP/1.1: HTTP/2 sessions get a GOAWAY (their
 * open streams finish), HTTP/1.1 connections with no request in flight close at once, and
 * `closeAllConnections` cuts whatever is left.
 */
export function trackConnections(server: http2.Http2SecureServer): KubegateServer {
  const sockets = new Set<TLSSocket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  // one listener function each, shared by every connection and request ('close' comes once):
  // `once` and a closure per connection and per request were a wrapper, a bound function and a
  // context each, for as long as the request is held
  function forgetSocket(this: TLSSocket): void {
    sockets.delete(this);
  }
  function forgetSession(this: http2.ServerHttp2Session): void {
    sessions.delete(this);
  }
  function requestDone(this: ServerResponse): void {
    const socket = this.req.socket as Tracked;
    socket[BUSY] = (socket[BUSY] ?? 1) - 1;
  }
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', forgetSocket);
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on('close', forgetSession);
  });
  // HTTP/1.1 only ('request' of an HTTP/2 stream counts on its session, which closes by GOAWAY)
  server.prependListener('request', (req, res) => {
    if (req.httpVersionMajor === 2) return;
    const socket = req.socket as Tracked;
    socket[BUSY] = (socket[BUSY] ?? 0) + 1;
    (res as unknown as ServerResponse).on('close', requestDone);
  });
  const h1 = (s: TLSSocket) => s.alpnProtocol !== 'h2';
  return Object.assign(server, {
    closeIdleConnections() {
      for (const session of sessions) session.close();
      for (const s of sockets) if (h1(s) && !((s as Tracked)[BUSY] ?? 0)) s.destroy();
    },
    closeAllConnections() {
      for (const s of sockets) s.destroy();
    },
  });
}
