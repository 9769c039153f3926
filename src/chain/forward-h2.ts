import type { OutgoingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import type { KubeRequest } from '../kube/request.js';
import { StatusError, sendStatus } from '../kube/status.js';
import type { H2Sessions } from '../upstream-h2.js';
import type { RequestContext, WebResponse, With } from './context.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;

/**
 * Which requests go over the upstream HTTP/2 session: plain reads that end with their answer
 * (get, list). Watches, upgrades and every change stay on HTTP/1.1.
 */
export function h2Eligible(kr: KubeRequest): boolean {
  return !kr.mutating && !kr.upgrade && kr.method === 'GET' && (kr.verb === 'get' || kr.verb === 'list');
}

/**
 * The HTTP/1.1 headers `stream` prepared, as an HTTP/2 request: Host becomes :authority; the
 * connection-specific ones HTTP/2 forbids are already gone (NOT_FORWARDED, and a read carries no
 * Transfer-Encoding or Content-Length), and Node refuses any that remain before sending.
 */
function h2Headers(headers: OutgoingHttpHeaders, kr: KubeRequest): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {
    ':method': 'GET',
    ':path': kr.path + kr.search,
    ':authority': String(headers.host),
  };
  for (const k of Object.keys(headers)) if (k !== 'host') out[k] = headers[k];
  return out;
}

/**
 * Sends a read over `sessions` and relays its answer; undefined when no session can take it
 * (the caller sends it over HTTP/1.1). Returns the function that cancels the stream (the client
 * left). A stream the upstream refused unprocessed (GOAWAY, REFUSED_STREAM) is sent again by
 * `resend`, once, over HTTP/1.1; one that failed after it was sent gets a 502.
 */
export function sendH2(
  sessions: H2Sessions,
  headers: OutgoingHttpHeaders,
  ctx: With<'caller' | 'req'>,
  res: WebResponse,
  io: {
    head: (status: number, theirs: Record<string, unknown>) => void;
    resend: () => void;
    onError: (err: Error, ctx: RequestContext) => void;
  },
): (() => void) | undefined {
  const up = sessions.request(h2Headers(headers, ctx.kr));
  if (!up) return undefined;
  let answered = false;
  let error: Error | undefined;
  up.on('response', (h) => {
    answered = true;
    io.head(Number(h[':status']) || 502, h);
    up.pipe(res as NodeJS.WritableStream);
  });
  up.on('error', (err) => {
    error = err;
  });
  up.on('close', () => {
    if (ctx.clientGone) return; // cancelled because the client left: nobody to answer
    if (answered) {
      // cut off mid-answer: the client must not take a truncated body for a whole one
      if (up.rstCode !== http2.constants.NGHTTP2_NO_ERROR && !res.writableEnded) res.destroy();
      return;
    }
    if (up.rstCode === NGHTTP2_REFUSED_STREAM) return io.resend();
    const err = error ?? new Error(`upstream stream closed without an answer (code ${up.rstCode})`);
    io.onError(err, ctx);
    if (res.headersSent) return void res.destroy();
    sendStatus(res, new StatusError(502, 'ServiceUnavailable', `upstream API server failed: ${err.message}`));
  });
  return () => {
    if (!up.closed) up.close(NGHTTP2_CANCEL);
  };
}
