import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { JSON_TYPES, NEEDS_DECODE, parseBody, YAML_TYPES } from '../kube/body.js';
import { decodeViaDryRun } from '../kube/decode.js';
import { canonicalQuery, type KubeRequest } from '../kube/request.js';
import { badRequest, StatusError } from '../kube/status.js';
import type { Metrics } from '../metrics.js';
import { DELETE_OPTION_PARAMS, honoursDryRun, isDelete } from '../wire/verbs.js';
import type { RequestAudit } from './audit.js';
import { countRefused } from './authenticate.js';
import type { Budget } from './budget.js';
import { type RequestBody, type RequestContext, targetOf, type WebRequest, type With } from './context.js';

export interface BodyDeps {
  maxBodyBytes: number;
  budget: Budget;
  audit: RequestAudit;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Reads a change's body (bounded) and decodes it into what the policy decides on, the
 * approver sees, the fingerprint covers and the upstream receives.
 */
export async function readAndDecode(
  ctx: With<'caller' | 'req'>,
  d: BodyDeps,
): Promise<With<'caller' | 'body'>> {
  const { kr } = ctx;
  // a read's body is never read (nor forwarded: reads stream), an upgrade carries none
  const raw = kr.mutating && !kr.upgrade ? await readBounded(ctx, d) : Buffer.alloc(0);
  const parsed = kr.mutating && !kr.upgrade ? parseBody(kr, raw) : null;
  let object: unknown = parsed;
  if (parsed === NEEDS_DECODE) {
    const type = String(ctx.headers['content-type']);
    try {
      object = await decodeViaDryRun(ctx.cluster.upstream, ctx.caller.credentials, kr, raw, type, ctx.id);
    } catch (err) {
      // the apiserver refused the bytes (e.g. AlreadyExists): nothing is forwarded, but it is on record
      await d.audit.record(ctx.facts, 'refused', { status: 'refused', message: (err as Error).message });
      throw err;
    }
  }
  applyDeleteOptionsDryRun(kr, object, raw.length);
  dropAnswerOnlyParams(kr);
  ctx.facts.resource = targetOf(kr, object);
  // A DELETE body goes upstream as the JSON DeleteOptions kubegate read, and a YAML body as the
  // JSON kubegate read: the apiserver must not decode anything else from them than the gate did.
  const reencode = raw.length > 0 && (isDelete(kr) || YAML_TYPES.has(kr.contentType));
  const body = {
    object,
    forward: reencode ? Buffer.from(JSON.stringify(isDelete(kr) ? (object ?? {}) : object)) : raw,
    ...(reencode && (isDelete(kr) || kr.contentType === 'application/yaml')
      ? { contentType: 'application/json' }
      : {}),
    fingerprintBody:
      parsed === NEEDS_DECODE
        ? { contentType: kr.contentType, sha256: createHash('sha256').update(raw).digest('hex') }
        : withoutDryRun(kr, object),
    ...(parsed === NEEDS_DECODE ? { decoded: object } : {}),
  };
  return Object.assign(ctx, { body });
}

/**
 * A context that came with its body (kubegate's own requests; a parked request running again):
 * its records name the object as they would had the body been read here (a create's name is in
 * its body only).
 */
export function bodyAsGiven(ctx: With<'caller' | 'body'>): With<'caller' | 'body'> {
  ctx.facts.resource = targetOf(ctx.kr, ctx.body.object);
  return ctx;
}

/**
 * What a parked request keeps of its body while it waits: the bytes that go upstream, and the
 * decoded body only when those bytes cannot be read back into it (a DELETE's options, YAML sent
 * on as JSON, a binary body the apiserver decoded). A JSON body goes as the client sent it, so it
 * is parsed again when the request runs: a held Deployment does not keep its decoded tree,
 * several times the size of its JSON, for the minutes it waits, and the run that forwards it
 * decides on the very bytes it forwards.
 */
export type KeptBody = RequestBody | { readonly forward: Buffer };

export function keepBody(kr: KubeRequest, body: RequestBody): KeptBody {
  const asSent = JSON_TYPES.has(kr.contentType) && !isDelete(kr) && !body.contentType && !body.decoded;
  return asSent && body.forward.length > 0 ? { forward: body.forward } : body;
}

/** A kept body as the chain takes it (see keepBody). */
export function bodyOfKept(kr: KubeRequest, kept: KeptBody): RequestBody {
  if ('fingerprintBody' in kept) return kept;
  const object = parseBody(kr, kept.forward);
  return { object, forward: kept.forward, fingerprintBody: object };
}

/** Reads the whole body within `limits.max_body_bytes` and the in-flight budget. */
function readBounded(ctx: With<'caller' | 'req'>, d: BodyDeps): Promise<Buffer> {
  const req = ctx.req;
  const who = ctx.caller.user.username;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > d.maxBodyBytes) return Promise.reject(tooLarge(d.maxBodyBytes));
  const share = new BodyShare(d.budget, who);
  ctx.bodyShare = share;
  if (declared > 0 && !share.reserve(declared)) return Promise.reject(overBudget(ctx, d));
  return collect(req, d.maxBodyBytes, share, () => overBudget(ctx, d));
}

/**
 * One body's share of the in-flight budget, given back when the request ends. A parked request
 * keeps it while it waits: one small object, apart from the request's context (nothing here
 * keeps the context alive).
 */
export class BodyShare {
  private held = 0;
  constructor(
    private readonly budget: Budget,
    private readonly who: string,
  ) {}

  reserve(n: number): boolean {
    if (!this.budget.take(this.who, n)) return false;
    this.held += n;
    return true;
  }

  /** Whether a body of `size` bytes fits (taking more of the budget when it must). */
  fits(size: number): boolean {
    return size <= this.held || this.reserve(size - this.held);
  }

  release(): void {
    this.budget.give(this.who, this.held);
    this.held = 0;
  }
}

function collect(
  req: WebRequest,
  max: number,
  share: BodyShare,
  refuse: () => StatusError,
  timeoutMs = 30_000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    // Every listener goes once the body is in (or refused): a held request keeps its request
    // object for minutes, and listeners left on it would keep this closure, its chunks and its
    // timer alive with it.
    const detach = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', detach);
      req.off('error', onError);
      req.off('aborted', onAborted);
      // a later error (the client resets while held) must not go unhandled: as before, swallowed
      if (req.listenerCount('error') === 0) req.on('error', ignoreError);
    };
    const stop = (err: StatusError) => {
      detach();
      chunks = [];
      reject(err);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > max) return stop(tooLarge(max));
      if (!share.fits(size)) return stop(refuse());
      chunks.push(c);
    };
    const onEnd = () => {
      detach();
      resolve(Buffer.concat(chunks, size));
      chunks = [];
    };
    const onError = (err: Error) => stop(new StatusError(400, 'BadRequest', err.message));
    const onAborted = () => stop(new StatusError(400, 'BadRequest', 'client aborted the request body'));
    // a client that trickles its body must not pin a connection (and memory) forever
    const timer = setTimeout(() => {
      stop(new StatusError(408, 'Timeout', `request body not received within ${timeoutMs / 1000}s`));
      req.destroy();
    }, timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', detach);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** Shared, so that it keeps nothing of a request alive. */
const ignoreError = (): void => {};

const tooLarge = (max: number) =>
  new StatusError(413, 'RequestEntityTooLarge', `request body larger than kubegate's limit of ${max} bytes`);

function overBudget(ctx: RequestContext, d: BodyDeps): StatusError {
  countRefused(d, 'over_budget', ctx);
  return new StatusError(
    429,
    'TooManyRequests',
    `too many request bodies in flight (kubegate holds at most ${d.budget.maxPerCaller} bytes per caller and ${d.budget.maxTotal} in all): retry when earlier requests have finished`,
  );
}

/**
 * A DELETE with a body is decided by its DeleteOptions: the apiserver then ignores the
 * query entirely. So `?dryRun=All` with a body `{}` is a REAL delete, and a body with
 * `dryRun: ["All"]` is a dry run (what kubectl sends). Anything ambiguous is refused.
 */
function applyDeleteOptionsDryRun(kr: KubeRequest, object: unknown, bodyBytes: number): void {
  // Any body bytes at all (even `null`, `~` or a YAML comment) make the apiserver ignore the query.
  if (!isDelete(kr) || bodyBytes === 0) return;
  if (object !== null && object !== undefined && (typeof object !== 'object' || Array.isArray(object))) {
    throw badRequest('a DELETE body must be DeleteOptions');
  }
  const dry = (object as { dryRun?: unknown } | null)?.dryRun;
  const bodyDry = Array.isArray(dry) && dry.length === 1 && dry[0] === 'All';
  if (dry !== undefined && dry !== null && !bodyDry && !(Array.isArray(dry) && dry.length === 0)) {
    throw badRequest('DeleteOptions.dryRun must be ["All"] or absent');
  }
  // the approver must see the options that apply: with a body, those in the query do not
  const ignored = DELETE_OPTION_PARAMS.filter((k) => kr.query[k] && !(k === 'dryRun' && bodyDry));
  if (ignored.length) {
    throw badRequest(
      `${ignored.join(', ')} in the query ${ignored.length > 1 ? 'are' : 'is'} ignored by the API server when a DELETE has a body: put ${ignored.length > 1 ? 'them' : 'it'} in DeleteOptions`,
    );
  }
  kr.dryRun = bodyDry;
}

/**
 * `timeout` and `pretty` shape the apiserver's answer, not what it stores, so the fingerprint
 * leaves them out of a resource write; kubegate then does not forward them either: a requester's
 * `?timeout=1ms` could otherwise commit an approved change while the apiserver answers 504 (the
 * record would say failed, and no rollback would be offered), or make every preview time out.
 */
function dropAnswerOnlyParams(kr: KubeRequest): void {
  if (!honoursDryRun(kr) || !(kr.query.timeout || kr.query.pretty)) return;
  const { timeout: _t, pretty: _p, ...rest } = kr.query;
  kr.query = rest;
  kr.search = canonicalQuery(rest);
}

/** The dry run and the real request share one fingerprint: drop DeleteOptions.dryRun from it. */
function withoutDryRun(kr: KubeRequest, object: unknown): unknown {
  if (!isDelete(kr) || !object || typeof object !== 'object') return object;
  const { dryRun: _dryRun, ...rest } = object as Record<string, unknown>;
  return rest;
}
