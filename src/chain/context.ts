import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { HoldEvent } from '../approval/notifier.js';
import { type ClientGone, type Gone, goneOf } from '../client-gone.js';
import type { Cluster } from '../clusters.js';
import { describeRequest, type KubeRequest } from '../kube/request.js';
import type { Decision } from '../policy/decision.js';
import type { UserInfo } from '../policy/input.js';
import type { PendingRequest, Snapshot } from '../wire/request-view.js';

/**
 * Who sent a request through the chain: a client over the socket, kubegate itself acting for an
 * approver (a rollback, a preview dry run), or a plan's step run with its requester's own
 * credentials. Every origin takes the same stages.
 */
export type Origin = 'client' | 'rollback' | 'preview' | 'plan';

/** The caller as the upstream knows them, and the headers that carry that identity upstream. */
export interface Caller {
  user: UserInfo;
  /** Authorization and Impersonate-* headers sent upstream for this caller (and only these). */
  credentials: Record<string, string | string[]>;
}

/** A mutation's body, read once and decoded once. */
export interface RequestBody {
  /** What the policy decides on and the approver sees. */
  object: unknown;
  /** The exact bytes that go upstream. */
  forward: Buffer;
  /** The content type sent upstream when kubegate re-encoded the body (YAML, DeleteOptions as JSON). */
  contentType?: string;
  /** What the fingerprint covers: the parsed body, or {contentType, sha256} of a binary one. */
  fingerprintBody: unknown;
  /** A binary body as the apiserver decoded it (display only). */
  decoded?: unknown;
}

export interface Decided {
  fingerprint: string;
  decision: Decision;
  /** The live object the change applies to (its parent, for subresources), or null. */
  live: Record<string, unknown> | null;
  /** "HIGH risk (reasons…)", for messages. */
  summary: string;
}

/**
 * What a request keeps of its pending record while held and after: the store has the rest (its
 * detail is the bulk of it, and thousands of requests may wait at once).
 */
export type HeldRef = Pick<PendingRequest, 'id' | 'fingerprint' | 'createdAt'>;

/**
 * A held request running the chain again after its wait (see chain.ts, `parked`): the pending
 * record it already has, when its hold ends, and what woke it.
 */
export interface Resume {
  pending: HeldRef;
  deadline: number;
  woke: HoldEvent | 'timeout';
  /** Where news stood when it woke: news during its run again wakes its next wait at once. */
  since: number;
}

/** What the approval stage let through: who approved, which approvals were spent. */
export interface Approved {
  approvers?: string[];
  jtis?: string[];
  pending?: HeldRef;
  snapshot?: Snapshot;
}

/** The fields every audit record of one request carries (the safety model's fields). */
export interface RequestFacts {
  request_id: string;
  /** The cluster the request is for (every record names it). */
  cluster: string;
  action: string;
  resource: string;
  user?: string;
  risk?: string;
  reasons?: string[];
  policy?: string;
  fingerprint?: string;
  plan_id?: string;
  /** A plan's step number (1-based). */
  plan_step?: number;
  policy_input?: unknown;
  /** Set when rules in audit mode would have raised the risk: to what, which rules, and whether it would have been held. */
  would_risk?: string;
  would_hold?: boolean;
  audit_rules?: string[];
  /** Set on kubegate's own requests: a rollback names the change it undoes, a preview the held request and who asked. */
  origin?: Origin;
  rollback_of?: string;
  preview_of?: string;
  asked_by?: string;
}

/** A client's request as the listener got it: HTTP/1.1, or one HTTP/2 stream. */
export type WebRequest = IncomingMessage | Http2ServerRequest;
export type WebResponse = ServerResponse | Http2ServerResponse;

/** One request's state from the listener to the record: the only place stages leave results. */
export interface RequestContext {
  id: string;
  started: number;
  origin: Origin;
  /** The upstream the request is for: identity, decision, approval and forwarding all use it. */
  cluster: Cluster;
  kr: KubeRequest;
  /** The client's request (absent when kubegate itself is the sender). */
  req?: WebRequest;
  /** The client's headers ({} for kubegate's own requests). */
  headers: IncomingHttpHeaders;
  signal: AbortSignal;
  /** The client left (cheap to ask: no signal is made for it). */
  readonly clientGone: boolean;
  /** Calls `cb` once when the client leaves (a held request's wait; cheaper than `signal`). */
  whenGone(cb: () => void): () => void;
  /** How long the approval stage holds the request open waiting for approvals (0: answer at once). */
  holdMs: number;
  facts: RequestFacts;
  /** Headers for the client's response (a Warning naming the risk and audit id). */
  responseHeaders: Record<string, string>;
  caller?: Caller;
  body?: RequestBody;
  decided?: Decided;
  approved?: Approved;
  /** The body's share of the in-flight budget (given back when the request ends). */
  bodyShare?: { release(): void };
  /** A rollback: the request it undoes. */
  rollbackOf?: string;
  /** A rollback's plan, shown to its approvers. */
  rollbackPlan?: { steps: string[]; effect: string };
  /** Set on a held request running again after its wait. */
  resume?: Resume;
  /** The approval stage may park this request while it waits (a client's request with a response). */
  parkable?: boolean;
  /** What tells of the client leaving, for a wait that outlives this context. */
  gone(): Gone;
  /** The signal this context was made with, for a context made again for the same client. */
  signalSource(): ContextInit['signal'];
}

/** A context once the named stages have run. */
export type With<K extends keyof RequestContext> = RequestContext & Required<Pick<RequestContext, K>>;

/** Random bytes drawn from the OS in batches (one syscall per 1 638 ids, not one per request). */
const ID_BYTES = 5;
let pool: Buffer = Buffer.alloc(0);
let poolAt = 0;

function randomHex(): string {
  if (poolAt + ID_BYTES > pool.length) {
    pool = randomBytes(ID_BYTES * 1638);
    poolAt = 0;
  }
  poolAt += ID_BYTES;
  return pool.toString('hex', poolAt - ID_BYTES, poolAt);
}

let dayOf = { until: 0, day: '' };

export function newRequestId(now = new Date()): string {
  const t = now.getTime();
  if (t >= dayOf.until || t < dayOf.until - 86_400_000) {
    const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    dayOf = { until: start + 86_400_000, day: now.toISOString().slice(0, 10).replace(/-/g, '') };
  }
  return `req-${dayOf.day}-${randomHex()}`;
}

/** "ns/resource/name" of the object a request changes (a create's name comes from its body). */
export function targetOf(kr: KubeRequest, object?: unknown): string {
  if (!kr.resourceRequest) return kr.path;
  const created = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  const name = kr.name || (kr.verb === 'create' && typeof created === 'string' ? created : '');
  // "ns/resource/name" without its empty parts (built per request: no arrays)
  let out = kr.namespace;
  if (kr.resource) out = out ? `${out}/${kr.resource}` : kr.resource;
  if (name) out = out ? `${out}/${name}` : name;
  return out;
}

/** What newContext needs; `signal` may be made on first use (see ClientGone). */
export type ContextInit = Pick<RequestContext, 'origin' | 'cluster' | 'kr' | 'headers' | 'holdMs'> &
  Partial<Pick<RequestContext, 'req' | 'id' | 'resume'>> & {
    signal: AbortSignal | ClientGone;
  };

/**
 * One request's context. A class rather than a literal so that `signal` can be resolved on first
 * use through one shared accessor (a getter per object literal would give every context its own
 * hidden class); fields are assigned in one order so every context shares one shape.
 */
class Context implements RequestContext {
  id: string;
  started = Date.now();
  origin: RequestContext['origin'];
  cluster: Cluster;
  kr: KubeRequest;
  req: WebRequest | undefined;
  headers: IncomingHttpHeaders;
  holdMs: number;
  facts: RequestFacts;
  responseHeaders: Record<string, string> = {};
  resume: Resume | undefined;
  parkable = false;
  private signalOf: ContextInit['signal'];

  constructor(init: ContextInit) {
    const id = init.id ?? newRequestId();
    this.id = id;
    this.origin = init.origin;
    this.cluster = init.cluster;
    this.kr = init.kr;
    this.req = init.req;
    this.headers = init.headers;
    this.holdMs = init.holdMs;
    this.signalOf = init.signal;
    this.resume = init.resume;
    this.facts = {
      request_id: id,
      cluster: init.cluster.name,
      action: describeRequest(init.kr),
      resource: targetOf(init.kr),
    };
  }

  get signal(): AbortSignal {
    const s = this.signalOf;
    return s instanceof AbortSignal ? s : s.signal;
  }

  get clientGone(): boolean {
    const s = this.signalOf;
    return s instanceof AbortSignal ? s.aborted : s.clientGone;
  }

  whenGone(cb: () => void): () => void {
    return this.gone().whenGone(cb);
  }

  gone(): Gone {
    const s = this.signalOf;
    return s instanceof AbortSignal ? goneOf(s) : s;
  }

  signalSource(): ContextInit['signal'] {
    return this.signalOf;
  }
}

export function newContext(init: ContextInit): RequestContext {
  return new Context(init);
}
