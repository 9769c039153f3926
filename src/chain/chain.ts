import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Cluster } from '../clusters.js';
import { StatusError } from '../kube/status.js';
import { hasImpersonation } from '../wire/impersonation.js';
import { type ApproveDeps, approve, judgeWoken, Parked } from './approve.js';
import type { Receipt, RequestAudit } from './audit.js';
import { type AuthenticateDeps, authenticate, countRefused } from './authenticate.js';
import { type BodyDeps, bodyAsGiven, readAndDecode } from './body.js';
import type { Budget } from './budget.js';
import { ChangeDecisions } from './change-decisions.js';
import type { RequestContext, WebResponse, With } from './context.js';
import { type DecideDeps, decide, decideRead } from './decide.js';
import type { Forwarder, Outcome } from './forward.js';
import { park } from './parked.js';
import { ReadDecisions } from './read-decisions.js';
import { type RecordDeps, recordOutcome, snapshotBefore } from './record.js';

export type ChainDeps = AuthenticateDeps &
  BodyDeps &
  DecideDeps &
  ApproveDeps &
  RecordDeps & {
    audit: RequestAudit;
    /** Each cluster's forwarder (its own upstream and connection pool). */
    forwarderFor: (cluster: Cluster) => Forwarder;
    /** Reads forwarded and not yet ended, per caller and in all (each holds an upstream connection). */
    readsInFlight: Budget;
    logger: Logger;
  };

/** Where a request's answer goes: the client's response, its upgraded socket, or back to kubegate. */
export type Target =
  | { kind: 'web'; res: WebResponse }
  | { kind: 'upgrade'; socket: Socket; head: Buffer }
  | { kind: 'call' };

const GONE: Outcome = { status: 0, error: 'client went away before forwarding', notSent: true };

/**
 * The request path, in order, for every request that can reach the upstream: a client's HTTP
 * request or upgrade (parsed by the listener), and the changes kubegate makes for approvers
 * (rollbacks, previews), which arrive authenticated and with their body. Like the apiserver's
 * DefaultBuildHandlerChain, this is the one place the order is written down.
 */
export function createChain(d: ChainDeps): (ctx: RequestContext, to: Target) => Promise<Outcome> {
  const reads = new ReadDecisions();
  const changes = new ChangeDecisions();
  return async function handle(ctx, to) {
    let parked = false;
    try {
      if (ctx.resume) await judgeWoken(ctx.resume, d);
      ctx.parkable = to.kind === 'web' && ctx.origin === 'client';
      const caller = ctx.caller ? (ctx as With<'caller'>) : await authenticate(ctx, d);
      const read = readPass(caller, d, reads);
      if (read) return await forwardRead(read, caller, to, d);
      const body = caller.body
        ? bodyAsGiven(caller as With<'caller' | 'body'>)
        : await readAndDecode(needReq(caller), d);
      const decided = await decide(body, d, changes);
      const approved = await approve(decided, d);
      await snapshotBefore(approved, d);
      const receipt = await d.audit.writeAhead(approved);
      // clientGone, not signal.aborted: asking for the signal makes an AbortController whose
      // abort (an Event, dispatched) every finished response would then pay for
      const outcome = ctx.clientGone ? GONE : await forward(receipt, approved, to, d);
      await recordOutcome(approved, outcome, d);
      return outcome;
    } catch (err) {
      if (!(err instanceof Parked) || to.kind !== 'web') throw err;
      const outcome = park(err, ctx, to, handle, d);
      parked = true;
      return outcome;
    } finally {
      // a parked request keeps its body, and its place in the body budget, until it runs again
      if (!parked) ctx.bodyShare?.release();
    }
  };
}

function forward(receipt: Receipt, ctx: With<'caller'>, to: Target, d: ChainDeps): Promise<Outcome> {
  const forwarder = d.forwarderFor(ctx.cluster);
  if (to.kind === 'call') {
    if (!ctx.body) throw new Error('kubegate sends no change without a decided body');
    return forwarder.call(receipt, ctx as With<'caller' | 'body'>);
  }
  if (to.kind === 'upgrade') return forwarder.upgrade(receipt, needReq(ctx), to.socket, to.head);
  return forwarder.web(receipt, needReq(ctx), to.res);
}

/** Plain reads the policy calls LOW stream straight through: no body, no hold, no write-ahead. */
function readPass(ctx: With<'caller'>, d: ChainDeps, reads: ReadDecisions): Receipt | undefined {
  if (ctx.kr.mutating || hasImpersonation(ctx.kr.impersonate) || ctx.origin !== 'client') return undefined;
  try {
    const decision = decideRead(ctx.kr, ctx.caller.user, ctx.cluster, d, reads);
    if (decision.risk !== 'LOW' || decision.deny.length > 0) return undefined;
    ctx.facts.risk = 'LOW';
    ctx.responseHeaders['kubegate-risk'] = 'LOW';
  } catch (err) {
    // reads fail open on a policy error (they change nothing), loudly
    d.logger.error({ err: (err as Error).message, path: ctx.kr.path }, 'policy error on a read; forwarding');
  }
  return d.audit.passRead(ctx);
}

/** A read's answer, and with `audit.reads: metadata` one record of it (group-committed, not awaited). */
async function forwardRead(
  receipt: Receipt,
  ctx: With<'caller'>,
  to: Target,
  d: ChainDeps,
): Promise<Outcome> {
  const who = ctx.caller.user.username;
  if (!d.readsInFlight.take(who, 1)) throw tooManyReads(ctx, d);
  const giveBack = () => d.readsInFlight.give(who, 1);
  let outcome: Outcome;
  try {
    // the client left while kubegate looked it up: nothing goes upstream for nobody
    outcome = ctx.clientGone ? GONE : await forward(receipt, ctx, to, d);
  } catch (err) {
    giveBack();
    throw err;
  }
  // an upgraded read (a WebSocket watch, a followed log) holds its place until its socket closes
  // (bypass round 20: given back at the 101, such watches were bounded by nothing)
  if (to.kind === 'upgrade' && outcome.status === 101 && !to.socket.closed) to.socket.once('close', giveBack);
  else giveBack();
  d.audit.later(ctx.facts, 'read', {
    status: outcome.status >= 200 && outcome.status < 400 ? 'success' : 'failed',
    http_status: outcome.status,
  });
  return outcome;
}

function tooManyReads(ctx: RequestContext, d: ChainDeps): StatusError {
  countRefused(d, 'reads_in_flight', ctx);
  const { maxPerCaller, maxTotal } = d.readsInFlight;
  return new StatusError(
    429,
    'TooManyRequests',
    `too many reads in flight (kubegate forwards at most ${maxPerCaller} per caller and ${maxTotal} in all at once; a watch or a followed log counts until it ends): retry when earlier ones have finished`,
  );
}

function needReq<T extends RequestContext>(ctx: T): T & { req: NonNullable<RequestContext['req']> } {
  if (!ctx.req) throw new Error(`a ${ctx.origin} request has no client connection`);
  return ctx as T & { req: NonNullable<RequestContext['req']> };
}
