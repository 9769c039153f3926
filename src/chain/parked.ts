import type { Logger } from 'pino';
import { answerError } from '../answer.js';
import { type HoldEvent, Waiter } from '../approval/notifier.js';
import type { ApprovalService } from '../approval/service.js';
import { sizeHeapFor } from '../heap.js';
import type { Metrics } from '../metrics.js';
import { leftWhileHeld, type Parked } from './approve.js';
import { bodyOfKept, type KeptBody, keepBody } from './body.js';
import type { Target } from './chain.js';
import {
  type ContextInit,
  type HeldRef,
  newContext,
  type RequestContext,
  type WebRequest,
  type WebResponse,
} from './context.js';
import type { Outcome } from './forward.js';

export interface ParkDeps {
  approvals: ApprovalService;
  metrics: Metrics;
  logger: Logger;
}

type Run = (ctx: RequestContext, to: Target & { kind: 'web' }) => Promise<Outcome>;

/** Requests parked now, in this process (the heap is sized for them: see heap.ts). */
let parkedNow = 0;

/** What the chain answers for a request it parked: its client's answer comes when it runs again. */
export const PARKED: Outcome = { status: 0, notSent: true };

/**
 * A held client request waiting parked: one plain object, registered with the notifier as the
 * waiter itself, keeping only what running the request again needs (the client's request and
 * response, its body's bytes (see keepBody) and its share of the body budget, the pending record,
 * the deadline). No promise, closure or frame per request waits with it: the chain's first pass
 * has returned, and so has the listener's call.
 */
class ParkedRequest extends Waiter {
  private readonly cluster: RequestContext['cluster'];
  private readonly kr: RequestContext['kr'];
  private readonly req: NonNullable<RequestContext['req']>;
  private readonly holdMs: number;
  private readonly signal: ContextInit['signal'];
  private readonly body: KeptBody | undefined;
  private readonly bodyShare: RequestContext['bodyShare'];
  private readonly pending: HeldRef;
  private readonly deadline: number;

  constructor(
    ctx: RequestContext & { req: NonNullable<RequestContext['req']> },
    p: Parked,
    private readonly res: WebResponse,
    private readonly run: Run,
    private readonly d: ParkDeps,
  ) {
    super();
    this.cluster = ctx.cluster;
    this.kr = ctx.kr;
    this.req = ctx.req;
    this.holdMs = ctx.holdMs;
    this.signal = ctx.signalSource();
    this.body = ctx.body && keepBody(ctx.kr, ctx.body);
    this.bodyShare = ctx.bodyShare;
    this.pending = p.pending;
    this.deadline = p.deadline;
  }

  /**
   * News, the deadline, or the client leaving: the request runs the whole chain again, as itself.
   * Never throws: the notifier wakes other requests, and its timer other deadlines, after this one.
   */
  wake(woke: HoldEvent | 'timeout' | 'aborted'): void {
    this.d.metrics.held(-1, this.cluster.name);
    sizeHeapFor(--parkedNow);
    if (woke === 'aborted') {
      this.bodyShare?.release();
      this.answer(leftWhileHeld());
      return;
    }
    try {
      this.runAgain(woke);
    } catch (err) {
      this.bodyShare?.release();
      this.answer(err);
    }
  }

  private runAgain(woke: HoldEvent | 'timeout'): void {
    const { req, pending } = this;
    const again = newContext({
      origin: 'client',
      cluster: this.cluster,
      kr: this.kr,
      req,
      // a client's headers are its request's (the listener made the context with req.headers)
      headers: req.headers,
      holdMs: this.holdMs,
      signal: this.signal,
      id: pending.id,
      resume: { pending, deadline: this.deadline, woke, since: this.d.approvals.newsMark() },
    });
    if (this.body) again.body = bodyOfKept(this.kr, this.body);
    again.bodyShare = this.bodyShare;
    this.run(again, { kind: 'web', res: this.res }).catch((err: unknown) => this.answer(err));
  }

  private answer(err: unknown): void {
    answerError(this.req, this.res, err, this.d.logger);
  }
}

/**
 * Parks a held client request (see ParkedRequest) until news of its fingerprint, its deadline, or
 * its client leaving; counted in the held gauge while it waits.
 */
export function park(
  p: Parked,
  ctx: RequestContext,
  to: Target & { kind: 'web' },
  run: Run,
  d: ParkDeps,
): Outcome {
  if (ctx.origin !== 'client' || !ctx.req || ctx.headers !== ctx.req.headers)
    throw new Error('only a client request with its own headers parks');
  const waiter = new ParkedRequest(ctx as RequestContext & { req: WebRequest }, p, to.res, run, d);
  d.metrics.held(1, ctx.cluster.name);
  sizeHeapFor(++parkedNow);
  try {
    d.approvals.park(waiter, p.pending.fingerprint, p.deadline - Date.now(), ctx.gone(), p.since);
  } catch (err) {
    // not parked: the chain answers the error and gives the body back
    d.metrics.held(-1, ctx.cluster.name);
    sizeHeapFor(--parkedNow);
    throw err;
  }
  return PARKED;
}
