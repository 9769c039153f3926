import { describe, expect, it } from 'vitest';
import { ALL, Notifier } from '../../../src/approval/notifier.js';

const never = new AbortController().signal;

describe('Notifier: no lost wake-up between counting approvals and waiting', () => {
  it('a wait given the mark taken before a notification wakes at once', async () => {
    const n = new Notifier();
    const since = n.mark();
    // approvals come back (a refused exec upgrade) after the count, before the wait
    n.notify('sha256:fp', { kind: 'approved' });
    const t0 = Date.now();
    expect(await n.wait('sha256:fp', 5000, never, [], since)).toEqual({ kind: 'news' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('news of another request, or news before the mark, does not wake it', async () => {
    const n = new Notifier();
    n.notify('sha256:fp', { kind: 'approved' });
    const since = n.mark();
    n.notify('sha256:other', { kind: 'approved' });
    expect(await n.wait('sha256:fp', 50, never, [], since)).toBe('timeout');
  });

  it('the store-wide key wakes every wait that started after the mark', async () => {
    const n = new Notifier();
    const since = n.mark();
    n.notify(ALL, { kind: 'news' });
    expect(await n.wait('sha256:fp', 5000, never, [ALL], since)).toEqual({ kind: 'news' });
  });
});
