import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Dispatcher } from 'undici';
import type { Gone } from '../client-gone.js';
import { StatusError, sendStatus } from '../kube/status.js';
import type { Recording, SessionRecorder } from '../sessions/recorder.js';
import { MAX_ANSWER_HEADER_BYTES, type Upstream, upstreamRequestOptions } from '../upstream.js';
import { Receipt } from './audit.js';
import type { RequestContext, WebResponse, With } from './context.js';

/**
 * Headers never forwarded: those of one hop (the client's `Connection` is dropped whole rather
 * than honoured, so a client cannot nominate a header kubegate decided on or adds), the
 * caller's credentials (sent as authenticated, see `Caller.credentials`), a client's Audit-ID
 * (kubegate's request id goes instead) and approval tokens meant for kubegate.
 */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'authorization',
  'audit-id',
  'kubegate-approval',
]);

export interface Outcome {
  /** The upstream's status (101 for a stream that opened); 0 when it never answered in full. */
  status: number;
  error?: string;
  /** The JSON answer, for kubegate's own calls. */
  body?: unknown;
  /** Nothing went upstream (the client left after the write-ahead record): approvals are given back. */
  notSent?: boolean;
}

export interface Forwarder {
  /** Streams a client's request to the upstream and its answer back. */
  web(receipt: Receipt, ctx: With<'caller' | 'req'>, res: WebResponse): Promise<Outcome>;
  /** Tunnels an upgrade (WebSocket or SPDY) once the upstream switched protocols. */
  upgrade(receipt: Receipt, ctx: With<'caller' | 'req'>, socket: Socket, head: Buffer): Promise<Outcome>;
  /** Sends a change kubegate makes itself (a rollback, a preview) and reads the JSON answer. */
  call(receipt: Receipt, ctx: With<'caller' | 'body'>): Promise<Outcome>;
}

/** What goes upstream for one request: the client's headers minus the above, plus identity and Audit-ID. */
function upstreamHeaders(receipt: Receipt, ctx: With<'caller'>, keepUpgrade: boolean): IncomingHttpHeaders {
  // a Receipt can only be constructed by the audit stage; a look-alike object is not one
  if (!(receipt instanceof Receipt) || receipt.requestId !== ctx.facts.request_id)
    throw new Error('forwarding needs the receipt of this request');
  if (receipt.kind === 'read' && ctx.kr.mutating) throw new Error('a change needs a write-ahead receipt');
  // one object filled in order (later keys win, as spreads would), without intermediate copies
  const out: IncomingHttpHeaders = {};
  const headers = ctx.headers;
  for (const k of Object.keys(headers)) {
    // HTTP/2 pseudo-headers (:method, :path, :authority…) belong to the client's hop only
    if (k.startsWith('impersonate-') || k.startsWith(':')) continue;
    if (NOT_FORWARDED.has(k) && !(keepUpgrade && (k === 'connection' || k === 'upgrade'))) continue;
    out[k] = headers[k];
  }
  if (ctx.body?.contentType) out['content-type'] = ctx.body.contentType;
  const credentials = ctx.caller.credentials;
  for (const k of Object.keys(credentials)) out[k] = credentials[k];
  out['audit-id'] = receipt.requestId;
  return out;
}

export function createForwarder(
  upstream: Upstream,
  onError: (err: Error, ctx: RequestContext) => void,
  sessions?: SessionRecorder,
): Forwarder {
  return {
    web: (receipt, ctx, res) => stream(upstream, upstreamHeaders(receipt, ctx, false), ctx, res, onError),
    upgrade: (receipt, ctx, socket, head) =>
      openUpgrade(upstream, upstreamHeaders(receipt, ctx, true), ctx, socket, head, sessions),
    call: (receipt, ctx) => send(upstream, upstreamHeaders(receipt, ctx, false), ctx),
  };
}

const EMPTY = Buffer.alloc(0);

/** Response headers of one hop: never relayed (HTTP/2 forbids them; Node frames HTTP/1.1 itself). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Sends a client's request to the upstream over the shared keep-alive pool and streams the answer
 * back, byte for byte. A change's decided bytes go as a fixed-length buffer, whatever framing the
 * client used; a read goes without a body.
 */
function stream(
  upstream: Upstream,
  headers: OutgoingHttpHeaders,
  ctx: With<'caller' | 'req'>,
  res: WebResponse,
  onError: (err: Error, ctx: RequestContext) => void,
): Promise<Outcome> {
  // kubegate frames every upstream request itself: a change's decided bytes with their exact
  // length, a read with no body at all. Bytes a client sends with a read (HTTP/2 DATA needs no
  // content-length) would otherwise reach the pooled HTTP/1.1 connection as an undecided request.
  const body = (ctx.kr.mutating ? ctx.body?.forward : undefined) ?? EMPTY;
  delete headers['transfer-encoding'];
  if (body.length || ctx.kr.mutating) headers['content-length'] = String(body.length);
  else delete headers['content-length'];
  headers.host = upstream.url.host;
  // a client that left before its request went sends nothing (and leaves no pooled socket busy)
  if (ctx.clientGone)
    return Promise.resolve({ status: 0, error: 'client went away before forwarding', notSent: true });
  const { cancel, answered, unread } = sendPooled(upstream, headers, body, ctx, res, onError);
  // the client left: a read's upstream request goes too; a change's answer is still awaited
  const outcome = outcomeOf(res, ctx, {
    cancel,
    unread,
    left: async (why) => {
      const status = ctx.kr.mutating ? await within(answered, ANSWER_AFTER_CLIENT_LEFT_MS) : 0;
      cancel();
      return status
        ? { status, error: 'the client left before the answer reached it' }
        : { status: 0, error: unread() ?? why };
    },
  });
  // what a read's client still sends is read and dropped, never forwarded
  if (!ctx.kr.mutating) ctx.req.resume();
  return outcome;
}

/**
 * How long a change whose client left is still awaited: once sent, the apiserver may apply it,
 * and its status is what the outcome record, the approvals' fate and a rollback go by.
 */
const ANSWER_AFTER_CLIENT_LEFT_MS = 30_000;

/** The value, or 0 when it does not come in time. */
function within(p: Promise<number>, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<number>((resolve) => {
    timer = setTimeout(() => resolve(0), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Why a request is cancelled (one Error: each new one would capture a stack). */
const CLIENT_LEFT = new Error('the client left');

/**
 * One request over the HTTP/1.1 keep-alive pool; returns what cancels it, the upstream's status
 * once its answer starts (0 if none comes), and why its answer could not be read once it was sent
 * (kubegate then answers 502 itself, and the upstream's outcome is unknown). The answer is relayed
 * as it arrives, paused while the client is slow to take it.
 */
function sendPooled(
  upstream: Upstream,
  headers: OutgoingHttpHeaders,
  body: Buffer,
  ctx: With<'caller' | 'req'>,
  res: WebResponse,
  onError: (err: Error, ctx: RequestContext) => void,
): { cancel: () => void; answered: Promise<number>; unread: () => string | undefined } {
  let answer!: (status: number) => void;
  const answered = new Promise<number>((resolve) => {
    answer = resolve;
  });
  let controller: Dispatcher.DispatchController | undefined;
  let cancelled = false;
  // the answer ended (or failed): nothing is left to cancel when the client's connection closes
  let settled = false;
  // on a connected socket, about to be written: from here on the upstream may act on it
  let sent = false;
  let unread: string | undefined;
  const out = res as NodeJS.WritableStream;
  upstream.pool.dispatch(
    {
      method: ctx.kr.method as Dispatcher.HttpMethod,
      path: ctx.kr.path + ctx.kr.search,
      headers: headers as Record<string, string | string[]>,
      body: body.length ? body : null,
    },
    {
      onRequestStart(c) {
        controller = c;
        sent = true;
        if (cancelled) c.abort(CLIENT_LEFT);
      },
      onResponseStart(_c, status, theirs) {
        answer(status);
        if (ctx.clientGone) return; // nobody to answer: the status is all kubegate needs
        writeHead(res, status, theirs, ctx);
        // a quiet watch must get its headers now, not with its first event
        if (ctx.kr.verb === 'watch' && 'flushHeaders' in res) res.flushHeaders();
      },
      onResponseData(c, chunk) {
        if (ctx.clientGone || out.write(chunk)) return;
        c.pause();
        res.once('drain', () => c.resume());
      },
      onResponseEnd() {
        settled = true;
        if (!ctx.clientGone) out.end();
      },
      onResponseError(_c, err) {
        settled = true;
        answer(0);
        if (ctx.clientGone || cancelled) return; // cancelled because the client left: nobody to answer
        onError(err, ctx);
        if (res.headersSent) return void res.destroy();
        if (sent) unread = `the upstream API server's answer could not be read: ${err.message}`;
        sendStatus(
          res,
          new StatusError(
            502,
            'ServiceUnavailable',
            !unread
              ? `upstream API server unreachable: ${err.message}`
              : ctx.kr.mutating
                ? `${unread} (the change was sent: it may have been applied)`
                : unread,
          ),
        );
      },
    },
  );
  const cancel = () => {
    if (settled || cancelled) return;
    cancelled = true;
    controller?.abort(CLIENT_LEFT);
  };
  return { cancel, answered, unread: () => unread };
}

/**
 * The upstream's status and headers, minus those of one hop (and HTTP/2's pseudo-headers), with
 * kubegate's own joined in.
 */
function writeHead(
  res: WebResponse,
  status: number,
  theirHeaders: Record<string, unknown>,
  ctx: RequestContext,
): void {
  const out: OutgoingHttpHeaders = {};
  for (const k of Object.keys(theirHeaders)) {
    const v = theirHeaders[k] as OutgoingHttpHeaders[string];
    if (v !== undefined && !HOP_BY_HOP.has(k) && k.charCodeAt(0) !== 58 /* ':' */) out[k] = v;
  }
  const ours = ctx.responseHeaders;
  for (const k of Object.keys(ours)) {
    const v = ours[k]!;
    const theirs = out[k];
    // kubegate's Warning joins the upstream's (e.g. a deprecated API), it does not replace it
    out[k] = theirs === undefined ? v : [v, ...(Array.isArray(theirs) ? theirs : [String(theirs)])];
  }
  res.writeHead(status, out);
}

/**
 * Resolves once the answer went out in full, or with what `left` makes of it when the client left
 * first (its response closed, or for a pipelined HTTP/1.1 request, its connection: see
 * client-gone.ts).
 */
function outcomeOf(
  res: WebResponse,
  gone: Gone,
  on: { cancel: () => void; unread: () => string | undefined; left: (why: string) => Promise<Outcome> },
): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const leave = (why: string) => {
      if (done) return;
      done = true;
      void on.left(why).then(resolve);
    };
    // an HTTP/2 response says 'finish' when its stream closes, answered or not (Node's compat
    // layer on a client's RST_STREAM): only a response kubegate ended carries the upstream's answer
    res.on('finish', () => {
      if (!res.writableEnded) return leave('client stream closed before the upstream answer completed');
      done = true;
      // kubegate's own 502 is not the upstream's answer: what the upstream did is unknown
      const unread = on.unread();
      resolve(unread ? { status: 0, error: unread } : { status: res.statusCode });
    });
    gone.whenGone(() => {
      // closed before the answer was complete: the outcome is the upstream's, or unknown, never "success"
      if (res.writableFinished) on.cancel();
      else leave('connection closed before the upstream answer completed');
    });
  });
}

/** An upgrade, recorded when `audit.sessions: record` asks for it; one that must be and cannot be is not opened. */
function openUpgrade(
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  ctx: With<'caller' | 'req'>,
  socket: Socket,
  head: Buffer,
  sessions: SessionRecorder | undefined,
): Promise<Outcome> {
  let rec: Recording | undefined;
  try {
    rec = sessions?.forRequest(ctx);
  } catch (err) {
    if (!(err instanceof StatusError)) throw err;
    writeStatus(socket, err);
    return Promise.resolve({ status: err.code, error: err.message });
  }
  return tunnel(upstream, headers, ctx, socket, head, rec);
}

/**
 * http-proxy only tunnels GET WebSocket upgrades; kubectl also uses SPDY over POST, so kubegate
 * opens the upstream upgrade itself and splices the two sockets once both sides agreed.
 */
function tunnel(
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  ctx: With<'caller' | 'req'>,
  socket: Socket,
  head: Buffer,
  rec?: Recording,
): Promise<Outcome> {
  return new Promise((resolve) => {
    const up = https.request({
      host: upstream.url.hostname,
      port: upstream.url.port || 443,
      method: ctx.kr.method,
      path: ctx.kr.path + ctx.kr.search,
      headers: { ...headers, host: upstream.url.host },
      ...(upstream.ca ? { ca: upstream.ca } : {}),
      agent: false, // an upgraded socket never goes back to a pool
      maxHeaderSize: MAX_ANSWER_HEADER_BYTES,
    });
    up.on('error', (err) => {
      rec?.finish(err.message);
      resolve({ status: 0, error: err.message });
      if (!socket.destroyed)
        writeStatus(
          socket,
          new StatusError(502, 'ServiceUnavailable', `upstream API server unreachable: ${err.message}`),
        );
    });
    socket.on('error', () => up.destroy());
    up.on('upgrade', (upRes, upSocket, upHead) => {
      resolve({ status: 101 });
      if (rec) return void spliceRecorded(socket, upSocket, head, upRes, upHead, rec);
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
      rec?.finish(`the upstream answered ${upRes.statusCode} instead of opening the session`);
      resolve({ status: upRes.statusCode ?? 0 });
      socket.write(rawHead(upRes, true));
      upRes.pipe(socket);
      upRes.on('end', () => up.destroy()); // no upgrade: this connection must carry nothing else
    });
    up.end();
  });
}

/**
 * A recorded session: every byte in either direction passes through its tap, which writes it to
 * the recording first. When recording fails (cap reached, disk error), both sockets close.
 */
function spliceRecorded(
  socket: Socket,
  upSocket: Socket,
  head: Buffer,
  upRes: IncomingMessage,
  upHead: Buffer,
  rec: Recording,
): void {
  if (socket.destroyed) {
    rec.finish('the client left before the session opened');
    return void upSocket.destroy();
  }
  let taps: ReturnType<Recording['start']>;
  try {
    taps = rec.start(String(upRes.headers['sec-websocket-protocol'] ?? '') || undefined);
  } catch (err) {
    rec.finish((err as Error).message);
    upSocket.destroy();
    return void writeStatus(
      socket,
      new StatusError(502, 'ServiceUnavailable', `session not recorded: ${(err as Error).message}`),
    );
  }
  // a recording's error fails the session; a socket's may be the end of a finished one (recorder.ts)
  let error: string | undefined;
  let teardown: string | undefined;
  const close = (err?: Error) => {
    socket.destroy();
    upSocket.destroy();
    return err?.message;
  };
  let open = 2;
  const closed = () => {
    if (--open === 0) rec.finish(error, teardown);
  };
  socket.once('close', closed);
  upSocket.once('close', closed);
  for (const s of [taps.toClient, taps.toServer])
    s.on('error', (err) => {
      error ??= close(err);
    });
  for (const s of [socket, upSocket])
    s.on('error', (err) => {
      teardown ??= close(err);
    });
  socket.on('close', () => close());
  upSocket.on('close', () => close());
  socket.write(rawHead(upRes));
  upSocket.pipe(taps.toClient).pipe(socket);
  socket.pipe(taps.toServer).pipe(upSocket);
  if (upHead.length) taps.toClient.write(upHead);
  if (head.length) taps.toServer.write(head);
}

/** kubegate's own change: the decided JSON body, the caller's credentials, a bounded JSON answer. */
function send(
  upstream: Upstream,
  headers: IncomingHttpHeaders,
  ctx: With<'caller' | 'body'>,
): Promise<Outcome> {
  const body = ctx.body.forward;
  return new Promise((resolve) => {
    const up = https.request(
      {
        ...upstreamRequestOptions(upstream),
        method: ctx.kr.method,
        path: ctx.kr.path + ctx.kr.search,
        headers: {
          ...headers,
          accept: 'application/json',
          'content-type': ctx.body.contentType ?? ctx.kr.contentType,
          'content-length': String(body.length),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parseJson(Buffer.concat(chunks)) }));
        res.on('error', (err) => resolve({ status: 0, error: err.message }));
      },
    );
    up.on('timeout', () => up.destroy(new Error('upstream did not answer within 30s')));
    up.on('error', (err) => resolve({ status: 0, error: err.message }));
    up.end(body);
  });
}

function parseJson(b: Buffer): unknown {
  try {
    return b.length ? JSON.parse(b.toString('utf8')) : null;
  } catch {
    return b.toString('utf8').slice(0, 1000);
  }
}

/** A Status as a raw HTTP/1.1 answer on a socket (upgrades have no ServerResponse). */
export function writeStatus(socket: Socket, err: StatusError): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${err.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
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
