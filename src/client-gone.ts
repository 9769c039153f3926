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

  /** The listener for the response's (or upgraded socket's) 'close'. */
  readonly left = (): void => {
    if (this.gone) return;
    this.gone = true;
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
