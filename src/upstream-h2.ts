import http2 from 'node:http2';
import type { Upstream } from './upstream.js';

/** Sessions per upstream: one carries hundreds of streams; more only when all are at the peer's limit. */
const MAX_SESSIONS = 4;
/** A failed handshake (no h2 offered, upstream down) is tried again after this long; HTTP/1.1 meanwhile. */
const RETRY_MS = 30_000;
/** Per-stream receive window: a LIST streams this much per round trip, and no more waits per stream. */
const STREAM_WINDOW = 1024 * 1024;
/** Until the peer's SETTINGS arrive, HTTP/2's recommended minimum. */
const ASSUMED_MAX_STREAMS = 100;

interface Entry {
  session: http2.ClientHttp2Session;
  /** Streams open on it (counted here: `session.state` asks nghttp2 and builds an object). */
  active: number;
  maxStreams: number;
  /** Connected and spoke h2: streams may go on it. */
  connected: boolean;
}

/**
 * A small pool of HTTP/2 sessions to one upstream, for plain reads (as client-go and kubectl
 * proxy talk to the apiserver): one TLS connection carries many requests, so a GET costs a
 * stream instead of an HTTP/1.1 socket's parse and pool bookkeeping. TLS trust is the HTTP/1.1
 * agent's (same CA, same verification). A request is only put on a session that is connected
 * and spoke h2 (ALPN); otherwise `request` answers undefined and the caller uses HTTP/1.1, so a
 * handshake that fails never fails a request. A session that closes, fails or gets GOAWAY leaves
 * the pool; the next request opens another.
 */
export class H2Sessions {
  private entries: Entry[] = [];
  /** No session is tried before this time (after a failed handshake). */
  private retryAt = 0;
  private closed = false;

  constructor(
    private readonly upstream: Pick<Upstream, 'url' | 'agent'>,
    private readonly max = MAX_SESSIONS,
  ) {}

  /**
   * Opens a stream for a request without a body, or undefined (use HTTP/1.1): no connected
   * session yet, or these headers are not valid HTTP/2 (Node refuses them before sending).
   */
  request(headers: http2.OutgoingHttpHeaders): http2.ClientHttp2Stream | undefined {
    const e = this.pick();
    if (!e) return undefined;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = e.session.request(headers, { endStream: true });
    } catch {
      return undefined;
    }
    e.active++;
    stream.on('close', () => e.active--); // fires once; `once` wraps per stream
    return stream;
  }

  /** Opens a session if none is open; resolves once none is still connecting: true if one spoke h2. */
  async warm(): Promise<boolean> {
    if (this.entries.length === 0 && !this.closed && Date.now() >= this.retryAt) this.open();
    const connecting = this.entries.filter((e) => !e.connected);
    await Promise.all(
      connecting.map(
        (e) =>
          new Promise((resolve) => {
            e.session.once('remoteSettings', resolve);
            e.session.once('close', resolve);
          }),
      ),
    );
    return this.entries.some((e) => e.connected);
  }

  /** Sessions open or opening. */
  get size(): number {
    return this.entries.length;
  }

  /** Ends every session (kubegate shutting down): open streams finish, no new ones start. */
  close(): void {
    this.closed = true;
    for (const e of this.entries) e.session.close();
    this.entries = [];
  }

  /**
   * A connected session with a free stream slot (under the peer's limit), or undefined; opens
   * another when all are full and the pool may grow. A full pool sends over HTTP/1.1 rather than
   * queue a stream behind long-lived ones (a followed log holds its stream for hours).
   */
  private pick(): Entry | undefined {
    let connecting = false;
    for (const e of this.entries) {
      if (!e.connected) connecting = true;
      else if (e.active < e.maxStreams) return e;
    }
    if (!connecting && !this.closed && this.entries.length < this.max && Date.now() >= this.retryAt)
      this.open();
    return undefined;
  }

  private open(): void {
    const o = this.upstream.agent.options;
    const session = http2.connect(this.upstream.url.origin, {
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    });
    const e: Entry = { session, active: 0, maxStreams: ASSUMED_MAX_STREAMS, connected: false };
    this.entries.push(e);
    // ready once the peer's SETTINGS arrived (its stream limit is known) over an h2 connection
    session.on('remoteSettings', (settings) => {
      if (session.alpnProtocol !== 'h2') return void this.failed(e);
      e.connected = true;
      e.maxStreams = settings.maxConcurrentStreams ?? ASSUMED_MAX_STREAMS;
    });
    // each open stream sees its session's error itself; the pool only lets the session go
    session.on('error', () => this.failed(e));
    session.once('goaway', () => this.drop(e));
    session.once('close', () => this.failed(e));
    // an idle pooled session must not keep kubegate's process alive
    session.unref();
  }

  /** Gone before it was ready: the upstream is not reachable over h2 now; HTTP/1.1 for a while. */
  private failed(e: Entry): void {
    if (!e.connected) this.retryAt = Date.now() + RETRY_MS;
    this.drop(e);
    if (!e.session.destroyed) e.session.destroy();
  }

  /** No new streams on it; its open ones finish (GOAWAY) or fail (error). */
  private drop(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }
}
