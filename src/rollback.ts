import { fingerprint } from './approval/fingerprint.js';
import { newRequestId } from './gate.js';
import { kubeCall } from './kube/client.js';
import { type KubeRequest, parseRequest } from './kube/request.js';
import { StatusError } from './kube/status.js';
import type { PolicyEngine } from './policy/engine.js';
import { buildInput } from './policy/input.js';
import {
  type PendingDetail,
  type PendingRequest,
  pendingDetail,
  type Snapshot,
  type StateStore,
} from './state/store.js';
import type { Upstream } from './upstream.js';

/** Server-set metadata that must not be sent back when re-creating or restoring an object. */
const SERVER_FIELDS = [
  'uid',
  'resourceVersion',
  'creationTimestamp',
  'managedFields',
  'generation',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];

type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
  status?: unknown;
  [k: string]: unknown;
};

function clean(obj: Obj, keep: string[] = []): Obj {
  const metadata = { ...(obj.metadata ?? {}) };
  for (const f of SERVER_FIELDS) if (!keep.includes(f)) delete metadata[f];
  const { status: _status, ...rest } = obj;
  return { ...rest, metadata };
}

function objectPath(d: PendingDetail, name: string): string {
  const gv = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
  const ns = d.namespace ? `/namespaces/${d.namespace}` : '';
  return `${gv}${ns}/${d.resource}/${name}`;
}

function collectionPath(d: PendingDetail): string {
  const gv = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
  return `${gv}${d.namespace ? `/namespaces/${d.namespace}` : ''}/${d.resource}`;
}

export interface UndoPlan {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  body: Obj | null;
  steps: string[];
  effect: string;
}

/**
 * The request that undoes a recorded change: delete what a create made,
 * re-create what a delete removed, put back the previous object for updates,
 * patches and scales (for a Deployment that restores its replicas and template).
 */
export function planUndo(snap: Snapshot, current: Obj | null): UndoPlan {
  const d = snap.detail;
  const before = snap.before as Obj | null;
  const createdName = (d.body as Obj | null)?.metadata?.name;
  const name = d.name || (typeof createdName === 'string' ? createdName : '');
  if (!name)
    throw new StatusError(409, 'Conflict', 'this change names no single object; kubegate cannot undo it');
  if (d.verb === 'connect')
    throw new StatusError(409, 'Conflict', 'an exec/attach/port-forward session cannot be undone');
  // A create on a subresource (token, binding, eviction…) did not create the object it names:
  // undoing it by deleting that object would destroy what the request never made.
  if (!UNDOABLE_SUBRESOURCES.has(d.subresource) || (d.verb === 'create' && d.subresource !== ''))
    throw new StatusError(
      409,
      'Conflict',
      `a ${d.verb} of ${d.resource}/${d.subresource} cannot be undone by kubegate`,
    );
  if (d.verb === 'create') {
    if (!current) throw new StatusError(409, 'Conflict', `${name} no longer exists: nothing to undo`);
    return {
      method: 'DELETE',
      path: objectPath(d, name),
      body: null,
      steps: [
        `delete ${d.resource} ${d.namespace ? `${d.namespace}/` : ''}${name} (created by the original request)`,
      ],
      effect: `${d.resource}/${name} will be deleted`,
    };
  }
  if (!before)
    throw new StatusError(409, 'Conflict', 'kubegate kept no snapshot of the object before this change');
  if (d.verb === 'delete') {
    if (current) throw new StatusError(409, 'Conflict', `${name} exists again: refusing to overwrite it`);
    return {
      method: 'POST',
      path: collectionPath(d),
      body: clean(before),
      steps: [
        `re-create ${d.resource} ${d.namespace ? `${d.namespace}/` : ''}${name} from the snapshot taken before the delete`,
      ],
      effect: `${d.resource}/${name} will exist again with its previous content (new uid)`,
    };
  }
  if (!current)
    throw new StatusError(409, 'Conflict', `${name} no longer exists: cannot restore its previous state`);
  // restore the previous object over the current one (optimistic: bound to the current resourceVersion)
  const restored = clean(before);
  restored.metadata = {
    ...restored.metadata,
    resourceVersion: current.metadata?.resourceVersion,
    uid: current.metadata?.uid,
  };
  const was = (before.spec as { replicas?: unknown } | undefined)?.replicas;
  const now = (current.spec as { replicas?: unknown } | undefined)?.replicas;
  return {
    method: 'PUT',
    path: objectPath(d, name),
    body: restored,
    steps: [
      `replace ${d.resource} ${d.namespace ? `${d.namespace}/` : ''}${name} with the snapshot taken before the change (resourceVersion ${String(before.metadata?.resourceVersion)})`,
    ],
    effect:
      was !== undefined && was !== now
        ? `spec.replicas ${String(now)} -> ${String(was)}; other fields as before the change`
        : 'the object returns to its state before the change',
  };
}

/** Where restoring the whole previous object undoes the change: the object itself, its scale, its status. */
const UNDOABLE_SUBRESOURCES = new Set(['', 'scale', 'status']);

/** Turns an undo plan into a pending request held for approval like any other. */
export async function proposeRollback(
  deps: {
    store: StateStore;
    policy: PolicyEngine;
    upstream: Upstream;
    authorization: string;
    config: Record<string, unknown>;
  },
  originalId: string,
  requester: string,
): Promise<{ pending: PendingRequest; plan: UndoPlan }> {
  const snap = await deps.store.getSnapshot(originalId);
  if (!snap)
    throw new StatusError(
      404,
      'NotFound',
      `no rollback snapshot for ${originalId} (only changes kubegate forwarded after approval have one)`,
    );
  // Only a change that ran can be undone: a create that failed (AlreadyExists) made nothing, and
  // "undoing" it would delete an object someone else made.
  if (!snap.executed)
    throw new StatusError(
      409,
      'Conflict',
      `${originalId} did not run successfully (or its outcome is unknown): there is nothing to undo`,
    );
  const d = snap.detail;
  const createdName = (d.body as Obj | null)?.metadata?.name;
  const name = d.name || (typeof createdName === 'string' ? createdName : '');
  const live = name
    ? await kubeCall<Obj>(deps.upstream, { path: objectPath(d, name), authorization: deps.authorization })
    : undefined;
  const current = live?.status === 200 ? live.body : null;
  const plan = planUndo(snap, current);

  const kr: KubeRequest = parseRequest({
    method: plan.method,
    url: plan.path,
    headers: { 'content-type': 'application/json' },
    rawHeaders: [],
  });
  const user = { username: requester, uid: '', groups: [], extra: {} };
  const decision = deps.policy.decide(buildInput(kr, user, plan.body, current, deps.config));
  const id = newRequestId();
  const fp = fingerprint({ ...kr, user: requester, body: plan.body });
  const now = Date.now();
  const pending: PendingRequest = {
    id,
    fingerprint: fp,
    status: 'pending',
    requester,
    risk: decision.risk,
    reasons: [`rollback of ${originalId}`, ...decision.reasons],
    target: [kr.namespace, kr.resource, kr.name || name].filter(Boolean).join('/'),
    createdAt: now,
    updatedAt: now,
    detail: {
      ...pendingDetail(kr, plan.body, current, { ...decision, dry_run_first: false }),
      rollbackOf: originalId,
      rollbackPlan: { steps: plan.steps, effect: plan.effect },
    },
  };
  await deps.store.putPending(pending);
  return { pending, plan };
}

/** Runs an approved rollback with kubegate's own credentials (there is no waiting client to do it). */
export async function executeRollback(
  upstream: Upstream,
  authorization: string,
  p: PendingRequest,
): Promise<{ status: number; message?: string }> {
  const d = p.detail;
  const r = await kubeCall<{ message?: string }>(upstream, {
    method: d.verb === 'create' ? 'POST' : d.verb === 'update' ? 'PUT' : 'DELETE',
    path: d.path,
    authorization,
    ...(d.body ? { body: d.body } : {}),
  });
  return { status: r.status, ...(r.status >= 300 && r.body?.message ? { message: r.body.message } : {}) };
}
