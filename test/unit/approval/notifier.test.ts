import { describe, expect, it } from 'vitest';
import { ALL, Notifier, Waiter } from '../../../src/approval/notifier.js';
import { ClientGone, goneOf } from '../../../src/client-gone.js';

const never = new AbortController().signal;

describe('Notifier: no lost wake-up between counting approvals and waiting', () => {
  it('a wait given the mark taken before a notification wakes at once', async () => {
    const n = new Notifier();
    const since = n.mark();
    // approvals come back (a refused exec upgrade) after the count, before the wait
    n.notify('sha256:fp', { kind: 'approved' });
    const t0 = Date.now();
    expect(await n.wait('sha256:fp', 5000, goneOf(never), [], since)).toEqual({ kind: 'news' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('news of another request, or news before the mark, does not wake it', async () => {
    const n = new Notifier();
    n.notify('sha256:fp', { kind: 'approved' });
    const since = n.mark();
    n.notify('sha256:other', { kind: 'approved' });
    expect(await n.wait('sha256:fp', 50, goneOf(never), [], since)).toBe('timeout');
  });

  it('the store-wide key wakes every wait that started after the mark', async () => {
    const n = new Notifier();
    const since = n.mark();
    n.notify(ALL, { kind: 'news' });
    expect(await n.wait('sha256:fp', 5000, goneOf(never), [ALL], since)).toEqual({ kind: 'news' });
  });
});

describe('Notifier: waiters by key', () => {
  it('wakes one waiter alone and each of several on the same key, and forgets them after', async () => {
    const n = new Notifier();
    const one = n.wait('fp-a', 5000, goneOf(never));
    const two = [n.wait('fp-b', 5000, goneOf(never)), n.wait('fp-b', 5000, goneOf(never))];
    expect(n.waiting).toBe(3);
    n.notify('fp-a', { kind: 'approved' });
    expect(await one).toEqual({ kind: 'approved' });
    n.notify('fp-b', { kind: 'rejected', message: 'no' });
    expect(await Promise.all(two)).toEqual([
      { kind: 'rejected', message: 'no' },
      { kind: 'rejected', message: 'no' },
    ]);
    expect(n.waiting).toBe(0);
  });

  it('a waiter that leaves a shared key leaves the other one waiting', async () => {
    const n = new Notifier();
    const c = new AbortController();
    const leaving = n.wait('fp', 5000, goneOf(c.signal));
    const staying = n.wait('fp', 5000, goneOf(never));
    c.abort();
    expect(await leaving).toBe('aborted');
    expect(n.waiting).toBe(1);
    n.notify('fp', { kind: 'approved' });
    expect(await staying).toEqual({ kind: 'approved' });
  });

  it('ends the wait when the client leaves (ClientGone: no AbortSignal made), or at once if it left', async () => {
    const n = new Notifier();
    const gone = new ClientGone();
    const held = n.wait('fp', 5000, gone);
    const second = n.wait('fp2', 5000, gone); // a second listener on the same client
    gone.left();
    expect(await held).toBe('aborted');
    expect(await second).toBe('aborted');
    expect(await n.wait('fp', 5000, gone)).toBe('aborted');
    expect(n.waiting).toBe(0);
  });
});

describe('Notifier: a parked waiter (no promise)', () => {
  it('is told once: at once when its client left or news came since its mark, else on news', () => {
    const n = new Notifier();
    const told: unknown[] = [];
    const waiter = new (class extends Waiter {
      wake(v: unknown) {
        told.push(v);
      }
    })();
    const gone = new ClientGone();
    gone.left();
    n.park(waiter, 'fp', 5000, gone, []);
    const since = n.mark();
    n.notify('fp', { kind: 'approved' });
    n.park(waiter, 'fp', 5000, goneOf(never), [], since);
    expect(told).toEqual(['aborted', { kind: 'news' }]);
    expect(n.waiting).toBe(0);
    n.park(waiter, 'fp', 5000, goneOf(never), [ALL], n.mark());
    n.notify(ALL, { kind: 'news' });
    n.notify('fp', { kind: 'approved' }); // ended already: not told twice
    expect(told).toEqual(['aborted', { kind: 'news' }, { kind: 'news' }]);
    expect(n.waiting).toBe(0);
  });
});
