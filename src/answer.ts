import http2 from 'node:http2';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { WebRequest, WebResponse } from './chain/context.js';
import { asStatusError, StatusError, sendStatus } from './kube/status.js';

/**
 * A client's request refused or failed, answered as a Kubernetes Status: by the listener, or by a
 * parked request that ran again (whose listener call ended when it parked). A bug while answering
 * costs this one request, never the process.
 */
export function answerError(req: WebRequest, res: WebResponse, err: unknown, logger: Logger): void {
  try {
    const se = asStatusError(err);
    if (se.code >= 500) logger.error({ err }, 'request failed inside kubegate');
    answerUnread(req, res, se);
  } catch (bug) {
    logger.error({ err: bug, method: req.method, url: req.url }, 'request handler failed');
    if (!res.headersSent)
      sendStatus(res, new StatusError(500, 'InternalError', 'kubegate failed on this request'));
    else res.destroy();
  }
}

/**
 * A refusal; when the body was not read (refused before it, e.g. an anonymous write), the
 * connection closes after the answer and what the client still sends is dropped unread.
 */
function answerUnread(req: WebRequest, res: WebResponse, err: StatusError): void {
  if (req.complete || res.headersSent) {
    sendStatus(res, err);
    req.resume();
    return;
  }
  if (req instanceof http2.Http2ServerRequest) {
    // one stream of a shared connection: answer, then end the stream (RST NO_ERROR) so the
    // client stops sending its body; the connection and its other streams go on
    sendStatus(res, err);
    const stream = req.stream;
    (res as http2.Http2ServerResponse).once('finish', () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
    return;
  }
  sendStatus(res, err, { connection: 'close' });
  lingeringClose(req.socket);
}

/**
 * Answer first, close later: a client still sending would get a reset instead of the answer
 * if kubegate closed while its bytes were unread. So the socket closes once the client has been
 * quiet for 200 ms (at most 3 s); what arrives meanwhile is read and dropped, never parsed or kept.
 */
export function lingeringClose(socket: Socket): void {
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
}
