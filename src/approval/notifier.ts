import { EventEmitter } from 'node:events';

export type HoldEvent =
  | { kind: 'approved' }
  | { kind: 'rejected'; message: string }
  | { kind: 'cancelled'; message: string };

/** Wakes requests held on a fingerprint when an approval, rejection or cancellation arrives. */
export class Notifier {
  private ee = new EventEmitter();

  constructor() {
    this.ee.setMaxListeners(0);
  }

  notify(fingerprint: string, ev: HoldEvent): void {
    this.ee.emit(fingerprint, ev);
  }

  /** Resolves with the next event for a fingerprint, or 'timeout' / 'aborted'. */
  wait(fingerprint: string, ms: number, signal: AbortSignal): Promise<HoldEvent | 'timeout' | 'aborted'> {
    return new Promise((resolve) => {
      const done = (v: HoldEvent | 'timeout' | 'aborted') => {
        clearTimeout(timer);
        this.ee.off(fingerprint, onEvent);
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onEvent = (ev: HoldEvent) => done(ev);
      const onAbort = () => done('aborted');
      const timer = setTimeout(() => done('timeout'), ms);
      this.ee.on(fingerprint, onEvent);
      signal.addEventListener('abort', onAbort);
      if (signal.aborted) done('aborted');
    });
  }
}
