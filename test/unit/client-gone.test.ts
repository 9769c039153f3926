import { describe, expect, it } from 'vitest';
import { ClientGone } from '../../src/client-gone.js';

describe('ClientGone: the client left, as an AbortSignal made on first use', () => {
  it('aborts a signal asked for before the client left, once it leaves', () => {
    const gone = new ClientGone();
    const signal = gone.signal;
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    expect(signal.aborted).toBe(false);
    gone.left();
    expect(signal.aborted).toBe(true);
    expect(fired).toBe(1);
    expect(gone.signal).toBe(signal);
  });

  it('hands out an aborted signal when asked only after the client left', () => {
    const gone = new ClientGone();
    gone.left();
    expect(gone.signal.aborted).toBe(true);
    expect((gone.signal.reason as Error).message).toBe('the client went away');
  });
});
