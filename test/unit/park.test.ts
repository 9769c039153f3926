import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Notifier, type Waiter } from '../../src/approval/notifier.js';
import type { ApprovalService } from '../../src/approval/service.js';
import { type ApproveDeps, approve, judgeWoken, Parked } from '../../src/chain/approve.js';
import type { RequestAudit } from '../../src/chain/audit.js';
import {
  newContext,
  type RequestContext,
  type Resume,
  type WebRequest,
  type WebResponse,
  type With,
} from '../../src/chain/context.js';
import { PARKED, type ParkDeps, park } from '../../src/chain/parked.js';
import { ClientGone } from '../../src/client-gone.js';
import { createMetrics } from '../../src/metrics.js';
import type { StateStore } from '../../src/state/store.js';
import { testCluster } from './fake-cluster.js';
import { approvalConfig, configMapCreate, decidedMedium } from './fake-decided.js';

const FP = 'sha256:held-request';
const PENDING = { id: 'req-held', fingerprint: FP, createdAt: Date.now() };

/** A MEDIUM change nobody has approved yet, with what the approval stage asked of its deps. */
function held(
  opts: { resume?: Resume; parkable?: boolean; headers?: Record<string, string>; retry?: boolean } = {},
) {
  const calls = {
    accepted: [] as string[][],
    waitedOn: [] as unknown[],
    holds: 0,
    records: [] as string[],
    extras: [] as Record<string, unknown>[],
  };
  let wake: (v: unknown) => void = () => {};
  const approvals = {
    acceptWithRequest: async (tokens: string[]) => {
      calls.accepted.push(tokens);
    },
    newsMark: () => 100,
    count: async () => ({ verdict: { ok: false, why: 'needs 1 approval', use: [] }, live: [] }),
    hold: async () => {
      calls.holds++;
      return { ...PENDING, status: 'pending' };
    },
    wait: (_fp: string, _ms: number, gone: ClientGone) => {
      calls.waitedOn.push(gone);
      return new Promise((resolve) => {
        wake = resolve;
      });
    },
  } as unknown as ApprovalService;
  const store = {
    // a retry of a request already pending finds it by its fingerprint
    findPendingByFingerprint: async () => (opts.retry ? { ...PENDING, status: 'pending' } : undefined),
    getPending: async () => ({ ...PENDING, status: 'rejected', message: 'not today' }),
    recentRejection: async () => undefined,
    lastRejection: async () => undefined,
  } as unknown as StateStore;
  const deps: ApproveDeps = {
    config: approvalConfig(),
    approvals,
    store,
    audit: {
      record: async (_f: unknown, event: string, extra: Record<string, unknown> = {}) => {
        calls.records.push(event);
        calls.extras.push(extra);
      },
    } as unknown as RequestAudit,
    metrics: createMetrics({ defaultMetrics: false }),
  };
  const gone = new ClientGone();
  // the client's request, as the listener hands it over (its headers are the context's)
  const headers = opts.headers ?? {};
  const req = { headers } as unknown as WebRequest;
  const ctx = Object.assign(
    newContext({
      origin: 'client',
      cluster: testCluster(),
      kr: configMapCreate(),
      req,
      headers,
      signal: gone,
      holdMs: 60_000,
      ...(opts.resume ? { resume: opts.resume, id: opts.resume.pending.id } : {}),
    }),
    decidedMedium(FP),
  ) as unknown as With<'caller' | 'body' | 'decided'>;
  ctx.parkable = opts.parkable ?? true;
  return { ctx, deps, calls, gone, wake: (v: unknown) => wake(v) };
}

/** A full garbage collection (the flag is set at run time: vitest starts workers without it). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('a held request waits parked', () => {
  it('is held once, then parked: the approval stage hands the chain what waiting needs', async () => {
    const h = held();
    const parked = await approve(h.ctx, h.deps).catch((err: unknown) => err);
    expect(parked).toBeInstanceOf(Parked);
    expect(parked).toMatchObject({ pending: PENDING, since: 100 });
    expect(h.calls.holds).toBe(1);
    expect(h.calls.records).toEqual(['held']);
    expect(h.calls.waitedOn).toEqual([]);
  });

  it("records a request's body once: a retry of the same pending request refers to it", async () => {
    const first = held();
    await approve(first.ctx, first.deps).catch(() => undefined);
    expect(first.calls.extras[0]).toMatchObject({ status: 'pending', body: first.ctx.body.object });
    // the same request again (same fingerprint, so the same body): held again, its body not repeated
    const retry = held({ retry: true });
    await approve(retry.ctx, retry.deps).catch(() => undefined);
    expect(retry.calls.holds).toBe(0);
    expect(retry.calls.records).toEqual(['held']);
    expect(retry.calls.extras[0]).toMatchObject({ status: 'pending', repeat: true });
    expect(retry.calls.extras[0]).not.toHaveProperty('body');
  });

  it('lets go of its context while it waits: the context can be collected, the wait runs it again', async () => {
    let ref: WeakRef<object> | undefined;
    const notifier = new Notifier();
    const runs: RequestContext[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    await (async () => {
      const h = held();
      ref = new WeakRef(h.ctx);
      const p = (await approve(h.ctx, h.deps).catch((err: unknown) => err)) as Parked;
      expect(
        park(p, h.ctx, { kind: 'web', res: {} as WebResponse }, runner(runs), parkDeps(notifier, metrics)),
      ).toBe(PARKED);
    })();
    for (let i = 0; i < 3 && ref?.deref(); i++) {
      await new Promise((r) => setTimeout(r, 0));
      collectGarbage();
    }
    expect(ref?.deref()).toBeUndefined();
    expect(notifier.waiting).toBe(1);
    expect(await heldGauge(metrics)).toBe(1);
    // the wait is still there, and wakes the request: it runs again as itself
    notifier.notify(FP, { kind: 'approved' });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      id: PENDING.id,
      resume: { pending: PENDING, woke: { kind: 'approved' } },
    });
    expect(notifier.waiting).toBe(0);
    expect(await heldGauge(metrics)).toBe(0);
  });

  it('runs again at its deadline, told it timed out', async () => {
    const notifier = new Notifier();
    const runs: RequestContext[] = [];
    const h = held();
    const p = (await approve(h.ctx, h.deps).catch((err: unknown) => err)) as Parked;
    const soon = new Parked(p.pending, Date.now() + 30, p.since);
    park(soon, h.ctx, { kind: 'web', res: {} as WebResponse }, runner(runs), parkDeps(notifier));
    await new Promise((r) => setTimeout(r, 80));
    expect(runs.map((c) => c.resume?.woke)).toEqual(['timeout']);
  });

  it('waits in place where it cannot be parked (an upgrade, kubegate’s own calls)', async () => {
    const h = held({ parkable: false });
    const run = approve(h.ctx, h.deps);
    await new Promise((r) => setTimeout(r, 10));
    expect(h.calls.waitedOn).toHaveLength(1);
    h.wake({ kind: 'rejected', message: 'no' });
    await expect(run).rejects.toMatchObject({ code: 403, message: expect.stringContaining('rejected: no') });
  });
});

/** The chain's run as a parked request calls it: the contexts it was run again with. */
function runner(runs: RequestContext[]) {
  return async (ctx: RequestContext) => {
    runs.push(ctx);
    return PARKED;
  };
}

function parkDeps(notifier: Notifier, metrics = createMetrics({ defaultMetrics: false })): ParkDeps {
  const approvals = {
    park: (w: Waiter, fp: string, ms: number, gone: ClientGone, since: number) =>
      notifier.park(w, fp, ms, gone, [], since),
    newsMark: () => notifier.mark(),
  } as unknown as ApprovalService;
  return { approvals, metrics, logger: pino({ level: 'silent' }) };
}

async function heldGauge(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('kubegate_held_requests{'));
  return Number(line?.split(' ').pop() ?? 0);
}

describe('a parked request running again', () => {
  const resume = (over: Partial<Resume> = {}): Resume => ({
    pending: PENDING,
    deadline: Date.now() + 60_000,
    woke: { kind: 'news' },
    since: 0,
    ...over,
  });

  it('keeps its pending record and announcement: no second pending, no second held record', async () => {
    const h = held({ resume: resume() });
    const parked = await approve(h.ctx, h.deps).catch((err: unknown) => err);
    expect(parked).toBeInstanceOf(Parked);
    expect(h.calls.holds).toBe(0);
    expect(h.calls.records).toEqual([]);
  });

  it('waits from where news stood when it woke: news during its run again is not missed', async () => {
    const h = held({ resume: resume({ since: 7 }) });
    expect(await approve(h.ctx, h.deps).catch((err: unknown) => err)).toMatchObject({ since: 7 });
    const first = held();
    expect(await approve(first.ctx, first.deps).catch((err: unknown) => err)).toMatchObject({ since: 100 });
  });

  it('does not accept its Kubegate-Approval header again (it was accepted on the first pass)', async () => {
    const h = held({ resume: resume(), headers: { 'kubegate-approval': 'token-a' } });
    await approve(h.ctx, h.deps).catch(() => undefined);
    expect(h.calls.accepted).toEqual([[]]);
    const first = held({ headers: { 'kubegate-approval': 'token-a' } });
    await approve(first.ctx, first.deps).catch(() => undefined);
    expect(first.calls.accepted).toEqual([['token-a']]);
  });

  it('keeps its deadline: past it, the held answer comes without another wait', async () => {
    const h = held({ resume: resume({ deadline: Date.now() - 1, woke: 'timeout' }) });
    await expect(approve(h.ctx, h.deps)).rejects.toMatchObject({
      code: 403,
      message: expect.stringContaining('held for approval as req-held'),
    });
    expect(h.calls.waitedOn).toEqual([]);
  });

  it('refuses a different request under the held one’s record', async () => {
    const h = held({ resume: resume({ pending: { ...PENDING, fingerprint: 'sha256:other' } }) });
    await expect(approve(h.ctx, h.deps)).rejects.toMatchObject({ code: 409 });
  });

  it('is answered as it would have been in place when what woke it was a rejection', async () => {
    const h = held();
    await expect(
      judgeWoken(resume({ woke: { kind: 'rejected', message: 'not today' } }), h.deps),
    ).rejects.toMatchObject({ code: 403, message: expect.stringContaining('rejected: not today') });
    // news: the store is asked, and says rejected
    await expect(judgeWoken(resume(), h.deps)).rejects.toMatchObject({ code: 403 });
    await expect(judgeWoken(resume({ woke: 'timeout' }), h.deps)).resolves.toBeUndefined();
  });
});
