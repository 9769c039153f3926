import type { Socket } from 'node:net';

/** Whether, and when, a held request's client left (cheaper than an AbortSignal per request). */
export interface Gone {
  readonly clientGone: boolean;
  /** Calls `cb` once when the client leaves; returns the way to stop listening. */
  whenGone(cb: () => void): () => void;
}

/** An AbortSignal as a Gone. */
export function goneOf(signal: AbortSignal): Gone {
  return {
    get clientGone() {
      return signal.aborted;
    },
    whenGone(cb) {
      if (signal.aborted) {
        cb(); // aborted already: a listener added late is not left waiting
        return () => {};
      }
      signal.addEventListener('abort', cb, { once: true });
      return () => signal.removeEventListener('abort', cb);
    },
  };
}

/** Aborting with a ready reason: abort() alone builds a DOMException (and its stack) per request. */
const CLIENT_GONE = new Error('the client went away');

/**
 * "The client went away" as an AbortSignal made only when a stage asks for it: a change checks
 * it before forwarding and a held request waits on it, but a read never does, and making and
 * aborting an AbortController for every request cost ~2% of a GET's CPU. Asked for after the
 * client left, the signal is aborted already: lazily made, never late.
 */
export class ClientGone implements Gone {
  private gone = false;
  private controller: AbortController | undefined;
  /** One listener without a signal: what a held request waits with. */
  private onLeft: (() => void) | undefined;
  /** The HTTP/1.1 connection this request is in flight on (see leaveWithConnection). */
  connection: Tracked | undefined;

  /** The listener for the response's (or upgraded socket's) 'close'. */
  readonly left = (): void => {
    if (this.gone) return;
    this.gone = true;
    if (this.connection) forget(this.connection, this);
    this.controller?.abort(CLIENT_GONE);
    const cb = this.onLeft;
    this.onLeft = undefined;
    cb?.();
  };

  /** Calls `cb` once when the client leaves (no AbortController made for the first listener). */
  whenGone(cb: () => void): () => void {
    if (this.gone) {
      cb(); // gone already: a listener added late is not left waiting
      return () => {};
    }
    if (this.onLeft) return goneOf(this.signal).whenGone(cb);
    this.onLeft = cb;
    return () => {
      if (this.onLeft === cb) this.onLeft = undefined;
    };
  }

  /** Whether the client left (no AbortController made to tell). */
  get clientGone(): boolean {
    return this.gone;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort(CLIENT_GONE);
    }
    return this.controller.signal;
  }
}

const IN_FLIGHT = Symbol('kubegate requests in flight on this connection');
type Tracked = Socket & { [IN_FLIGHT]?: ClientGone | Set<ClientGone> | undefined };

/**
 * Tells a request when its HTTP/1.1 connection closes, whatever its response is doing. Node
 * answers pipelined requests in order and attaches a response to the connection only when its
 * turn comes: a queued response hears nothing when the client hangs up, and the request behind it
 * would wait, or go upstream and stream, for nobody. One listener per connection tells every
 * request still in flight on it; a request leaves the set when its response closes.
 */
export function leaveWithConnection(socket: Socket, gone: ClientGone): void {
  const t = socket as Tracked;
  if (!(IN_FLIGHT in t)) socket.on('close', connectionClosed);
  const now = t[IN_FLIGHT];
  if (!now) t[IN_FLIGHT] = gone;
  else if (now instanceof Set) now.add(gone);
  else t[IN_FLIGHT] = new Set([now, gone]);
  gone.connection = t;
}

function forget(t: Tracked, gone: ClientGone): void {
  const now = t[IN_FLIGHT];
  if (now === gone) t[IN_FLIGHT] = undefined;
  else if (now instanceof Set) now.delete(gone);
}

function connectionClosed(this: Tracked): void {
  const now = this[IN_FLIGHT];
  this[IN_FLIGHT] = undefined;
  if (now instanceof Set) for (const g of [...now]) g.left();
  else now?.left();
}
