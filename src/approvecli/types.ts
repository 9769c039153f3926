import type { PlanView } from '../wire/plan-view.js';
import type { Preview } from '../wire/preview.js';
import type { PendingDetail, PendingRequest, Snapshot } from '../wire/request-view.js';
import { CliError } from './errors.js';

/** One row of GET /kubegate/v1/requests. */
export type PendingItem = PendingRequest & { conflicts: string[] };

/** An approval already given, as GET /kubegate/v1/requests/ID reports it. */
export interface ApprovalSummary {
  approver: string;
  override: boolean;
  reason: string;
  exp: number;
}

/**
 * Set by GET /kubegate/v1/requests/ID when the live object changed since the request was held:
 * `detail.oldObject` and `detail.resourceVersion` are then the object now, and this says from what.
 */
export interface Moved {
  /** The resourceVersion when the request was held (null when none was read then). */
  heldAt: string | null;
  now: string;
  /** The object as it was when the request was held (redacted like oldObject). */
  heldObject: unknown;
}

/** GET /kubegate/v1/requests/ID. */
export type PendingView = PendingItem & {
  approvals: ApprovalSummary[];
  snapshot?: Snapshot;
  moved?: Moved;
  /** Approver groups (of `detail.approvals_from`) no approval covers yet. */
  groups_needed?: string[];
  /** When kubegate last withdrew this request's approvals (ms, its clock; 0 for never): an approval names it. */
  withdrawn_at?: number;
};

export interface FreezeState {
  on: boolean;
  by?: string;
  at?: number;
  reason?: string;
}

export interface PendingList {
  items: PendingItem[];
  freeze: FreezeState;
  /** How long kubegate holds a request open; an older pending one is re-run by its requester after approval. */
  holdSeconds?: number;
  /** The clusters behind kubegate (a list of several shows each request's cluster). */
  clusters?: string[];
}

// What comes over the wire is checked before it is shown or signed: a malformed
// record is refused, never half-rendered.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

function bad(what: string): never {
  throw new CliError(`kubegate sent a malformed answer: ${what}`);
}

function str(o: Obj, key: string, at: string): string {
  if (typeof o[key] !== 'string') bad(`${at}.${key} is not a string`);
  return o[key] as string;
}

function strings(v: unknown, at: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) bad(`${at} is not a list of strings`);
  return v as string[];
}

function detailOf(v: unknown, at: string): PendingDetail {
  if (!isObj(v)) bad(`${at} is missing`);
  for (const k of [
    'verb',
    'group',
    'version',
    'resource',
    'subresource',
    'namespace',
    'name',
    'path',
    'contentType',
  ]) {
    str(v, k, at);
  }
  if (!isObj(v.query)) bad(`${at}.query is not an object`);
  for (const [k, vals] of Object.entries(v.query)) strings(vals, `${at}.query.${k}`);
  if (typeof v.approvals_required !== 'number') bad(`${at}.approvals_required is not a number`);
  if (typeof v.override_required !== 'boolean') bad(`${at}.override_required is not a boolean`);
  if (v.resourceVersion !== undefined && typeof v.resourceVersion !== 'string')
    bad(`${at}.resourceVersion is not a string`);
  return v as unknown as PendingDetail;
}

export function asPendingItem(v: unknown, at = 'request'): PendingItem {
  if (!isObj(v)) bad(`${at} is not an object`);
  for (const k of ['id', 'fingerprint', 'status', 'requester', 'risk', 'target']) str(v, k, at);
  strings(v.reasons, `${at}.reasons`);
  if (typeof v.createdAt !== 'number') bad(`${at}.createdAt is not a number`);
  detailOf(v.detail, `${at}.detail`);
  return {
    ...(v as unknown as PendingRequest),
    conflicts: v.conflicts === undefined ? [] : strings(v.conflicts, `${at}.conflicts`),
  };
}

function movedOf(v: unknown): Moved | undefined {
  if (v === undefined) return undefined;
  if (!isObj(v)) bad('request.moved is not an object');
  if (v.heldAt !== null && typeof v.heldAt !== 'string') bad('request.moved.heldAt is not a string');
  str(v, 'now', 'request.moved');
  return v as unknown as Moved;
}

export function asPendingView(v: unknown): PendingView {
  const item = asPendingItem(v);
  const approvals = (v as Obj).approvals ?? [];
  if (!Array.isArray(approvals)) bad('request.approvals is not a list');
  for (const [i, a] of approvals.entries()) {
    if (!isObj(a) || typeof a.approver !== 'string') bad(`request.approvals[${i}] has no approver`);
  }
  const moved = movedOf((v as Obj).moved);
  const needed = (v as Obj).groups_needed;
  if (needed !== undefined && (!Array.isArray(needed) || needed.some((g) => typeof g !== 'string')))
    bad('request.groups_needed is not a list of group names');
  const withdrawn = (v as Obj).withdrawn_at;
  if (withdrawn !== undefined && !(Number.isSafeInteger(withdrawn) && (withdrawn as number) >= 0))
    bad('request.withdrawn_at is not a time in ms');
  return {
    ...(v as Obj),
    ...item,
    approvals: approvals as ApprovalSummary[],
    ...(moved ? { moved } : {}),
  } as PendingView;
}

export function asFreeze(v: unknown): FreezeState {
  if (!isObj(v) || typeof v.on !== 'boolean') bad('freeze state has no "on"');
  return v as unknown as FreezeState;
}

export function asPendingList(v: unknown): PendingList {
  if (!isObj(v) || !Array.isArray(v.items)) bad('request list has no items');
  return {
    items: v.items.map((it, i) => asPendingItem(it, `items[${i}]`)),
    freeze: asFreeze(v.freeze ?? { on: false }),
    ...(typeof v.hold_seconds === 'number' ? { holdSeconds: v.hold_seconds } : {}),
    ...(Array.isArray(v.clusters) ? { clusters: v.clusters.map(String) } : {}),
  };
}

/** A preview: whether there is one, and its fields of the types they must have. */
export function asPreview(v: unknown): Preview {
  if (!isObj(v) || typeof v.available !== 'boolean') bad('the preview has no "available"');
  for (const k of ['reason', 'message', 'source'])
    if (v[k] !== undefined && typeof v[k] !== 'string') bad(`preview.${k} is not a string`);
  if (v.status !== undefined && typeof v.status !== 'number') bad('preview.status is not a number');
  const counts =
    v.contents === undefined ? {} : isObj(v.contents) ? v.contents : bad('preview.contents is not an object');
  for (const [k, n] of Object.entries(counts))
    if (typeof n !== 'number' && typeof n !== 'string') bad(`preview.contents.${k} is not a count`);
  return v as unknown as Preview;
}

/** GET /kubegate/v1/plans/ID: checked enough that every step can be verified and shown. */
export function asPlanView(v: unknown): PlanView & { needs?: string } {
  if (!isObj(v)) bad('plan is not an object');
  str(v, 'id', 'plan');
  str(v, 'requester', 'plan');
  str(v, 'status', 'plan');
  if (!Array.isArray(v.steps)) bad('plan.steps is not a list');
  v.steps.forEach((s, i) => {
    if (!isObj(s) || !isObj(s.detail) || typeof s.fingerprint !== 'string')
      bad(`plan.steps[${i}] is malformed`);
  });
  if (!Array.isArray(v.approvals) || !Array.isArray(v.checks))
    bad('plan.approvals or plan.checks is not a list');
  return v as unknown as PlanView & { needs?: string };
}
