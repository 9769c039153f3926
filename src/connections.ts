import type http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { KubegateServer } from './listen.js';

/**
 * Graceful close for a server speaking HTTP/2 and HTTP/1.1: HTTP/2 sessions get a GOAWAY (their
 * open streams finish), HTTP/1.1 connections with no request in flight close at once, and
 * `closeAllConnections` cuts whatever is left.
 */
export function trackConnections(server: http2.Http2SecureServer): KubegateServer {
  const sockets = new Set<TLSSocket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const busy = new WeakMap<object, number>();
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  // HTTP/1.1 only ('request' of an HTTP/2 stream counts on its session, which closes by GOAWAY)
  server.prependListener('request', (req, res) => {
    if (req.httpVersionMajor === 2) return;
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.once('close', () => busy.set(socket, (busy.get(socket) ?? 1) - 1));
  });
  const h1 = (s: TLSSocket) => s.alpnProtocol !== 'h2';
  return Object.assign(server, {
    closeIdleConnections() {
      for (const session of sessions) session.close();
      for (const s of sockets) if (h1(s) && !(busy.get(s) ?? 0)) s.destroy();
    },
    closeAllConnections() {
      for (const s of sockets) s.destroy();
    },
  });
}
