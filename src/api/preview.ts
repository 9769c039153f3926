import { redact } from '../audit/redact.js';
import type { Target } from '../chain/chain.js';
import { newContext, type RequestContext } from '../chain/context.js';
import type { Outcome } from '../chain/forward.js';
import { buildResourceRequest, type ResourceRequestParts } from '../kube/build.js';
import { StatusError } from '../kube/status.js';
import type { Upstream } from '../upstream.js';
import type { PendingRequest } from '../wire/request-view.js';
import { honoursDryRun } from '../wire/verbs.js';

export interface PreviewDeps {
  handle: (ctx: RequestContext, to: Target) => Promise<Outcome>;
  upstream: Upstream;
}

const PREVIEWABLE = new Set(['create', 'update', 'patch', 'delete']);

/** Why a held request has no preview, or undefined when it has one. */
function unavailable(p: PendingRequest, own: string | undefined): string | undefined {
  const d = p.detail;
  if (!own) return 'kubegate has no credentials of its own';
  if (!PREVIEWABLE.has(d.verb) || !honoursDryRun(d)) return `no dry run for ${d.verb}`;
  if (d.decoded !== undefined) return `no dry run for ${d.verb} with a binary body`;
  return undefined;
}

/**
 * A server-side dry run of a held request as its requester (kubegate's credentials with
 * Impersonate-User/Group), asked for by an approver: it goes through the chain like any request,
 * so it is decided, recorded (who asked, which request) and forwarded with an Audit-ID.
 */
export async function previewHeld(d: PreviewDeps, p: PendingRequest, approver: string) {
  const own = d.upstream.ownAuthorization();
  const why = unavailable(p, own);
  if (why) return { available: false, reason: why };
  const det = p.detail;
  const query = Object.fromEntries(Object.entries(det.query).filter(([k]) => k !== 'dryRun'));
  const parts = { ...det, query: { ...query, dryRun: ['All'] } } as ResourceRequestParts;
  const kr = buildResourceRequest(parts);
  const ctx = newContext({
    origin: 'preview',
    kr,
    headers: {},
    signal: new AbortController().signal,
    holdMs: 0,
  });
  const groups = (p.requesterGroups ?? []).filter((g) => g !== 'system:authenticated');
  ctx.caller = {
    user: { username: p.requester, uid: '', groups: p.requesterGroups ?? [], extra: {} },
    credentials: {
      authorization: own!,
      'impersonate-user': p.requester,
      ...(groups.length ? { 'impersonate-group': groups } : {}),
    },
  };
  // A DELETE with a body takes its options from the body alone: the dry run must be in the body.
  const sent = det.verb === 'delete' ? { ...(det.body as object | null), dryRun: ['All'] } : det.body;
  ctx.body = {
    object: det.body,
    forward: Buffer.from(JSON.stringify(sent ?? {})),
    fingerprintBody: det.body,
    ...(det.contentType === 'application/yaml' || !det.contentType
      ? { contentType: 'application/json' }
      : {}),
  };
  Object.assign(ctx.facts, { user: p.requester, origin: 'preview', preview_of: p.id, asked_by: approver });
  let r: Outcome;
  try {
    r = await d.handle(ctx, { kind: 'call' });
  } catch (err) {
    // refused before it was sent (frozen, denied, audit log down): say why instead of a preview
    if (err instanceof StatusError) return { available: false, reason: err.message };
    throw err;
  }
  const ok = r.status >= 200 && r.status < 300;
  return {
    available: true,
    status: r.status,
    ...(ok
      ? { object: redact(r.body, p.target) }
      : { message: (r.body as { message?: string } | null)?.message ?? r.error ?? `HTTP ${r.status}` }),
  };
}
