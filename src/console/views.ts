import { previewHeld } from '../api/preview.js';
import { listView, showView } from '../api/requests.js';
import { hasNoDryRun } from '../approvecli/blind.js';
import { describeAction } from '../approvecli/describe.js';
import { age, freezeLine, renderShow, statusOf } from '../approvecli/render.js';
import { asPendingView, type PendingView } from '../approvecli/types.js';
import { verifyFingerprint } from '../approvecli/verify.js';
import type { Preview } from '../wire/preview.js';
import { printable } from '../wire/printable.js';
import type { PendingDetail, PendingStatus } from '../wire/request-view.js';
import type { ConsoleDeps } from './deps.js';
import { objectDigest } from './object-digest.js';
import { timeline } from './timeline.js';

const OPEN = new Set(['pending', 'approved']);
const DECIDED: PendingStatus[] = ['executed', 'failed', 'rejected', 'expired', 'cancelled'];

/** The console's list: open requests newest first, recent decisions, the freeze — in the CLI's words. */
export async function consoleList(deps: ConsoleDeps) {
  const list = await listView(deps);
  const now = Date.now();
  const row = (p: (typeof list.items)[number]) => ({
    id: p.id,
    cluster: p.detail.cluster,
    age: age(now - p.createdAt),
    requester: p.requester,
    risk: p.risk,
    action: describeAction(p.detail as PendingDetail),
    target: p.target,
    status: statusOf(p, list.hold_seconds, now),
    conflicts: p.conflicts,
    message: p.message ?? '',
  });
  const newest = [...list.items].sort((a, b) => b.createdAt - a.createdAt);
  return {
    pending: newest.filter((p) => OPEN.has(p.status)).map(row),
    recent: (await deps.store.listPending(DECIDED))
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(0, 20)
      .map((p) => row({ ...p, conflicts: [] })),
    freeze: { ...list.freeze, line: freezeLine(list.freeze) },
    clusters: list.clusters,
  };
}

/** A request as approve-cli reads it (fingerprint recomputed), with the preview `show` fetches. */
export async function verifiedView(
  deps: ConsoleDeps,
  id: string,
  approver: string,
): Promise<{ view: PendingView; fingerprint: string; preview?: Preview } | undefined> {
  const raw = await showView(deps, id);
  if (!raw) return undefined;
  const view = asPendingView(JSON.parse(JSON.stringify(raw)));
  const fingerprint = verifyFingerprint(view, id);
  if (hasNoDryRun(view.detail) || raw.status !== 'pending') return { view, fingerprint };
  const p = await deps.store.getPending(id);
  const preview = p
    ? await previewHeld(deps, p, approver).catch(
        (err: Error): Preview => ({ available: false, reason: `kubegate did not send it: ${err.message}` }),
      )
    : undefined;
  return { view, fingerprint, ...(preview ? { preview } : {}) };
}

/** The request page: `approve-cli show` text, the parts the buttons need, and the audit timeline. */
export async function consoleShow(deps: ConsoleDeps, id: string, approver: string) {
  const v = await verifiedView(deps, id, approver);
  if (!v) return undefined;
  const { view } = v;
  return {
    id: view.id,
    fingerprint: v.fingerprint,
    status: view.status,
    risk: view.risk,
    requester: view.requester,
    action: describeAction(view.detail),
    target: view.target,
    // what the approval binds to besides the fingerprint: the page sends them back with Approve
    resource_version: view.detail.resourceVersion ?? '',
    object_digest: objectDigest(view.detail.oldObject),
    conflicts: view.conflicts ?? [],
    override_required: view.detail.override_required,
    approvals_required: view.detail.approvals_required,
    approvals: view.approvals,
    // bidi and other formatting characters in requester text are shown escaped, never obeyed
    show: printable(renderShow(view, Date.now(), v.fingerprint, v.preview), true),
    timeline: await timeline(deps.console.auditPath, id),
  };
}
