import type { PendingDetail } from '../wire/request-view.js';

const HIDDEN = '(value not shown)';
const PAYLOAD = new Set(['data', 'stringData']);

/**
 * The held request as it is printed: a Secret's values (in `data`/`stringData` of a body, or in
 * JSON-patch ops under /data or /stringData) are not printed, even to approvers. The fingerprint
 * is checked on the request as kubegate sent it, before this; `-o json` prints it whole.
 */
export function withoutSecretValues(d: PendingDetail): PendingDetail {
  if (d.resource !== 'secrets' || d.group !== '') return d;
  return {
    ...d,
    body: hideBody(d.body),
    ...(d.decoded !== undefined ? { decoded: hideBody(d.decoded) } : {}),
  };
}

function hideBody(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(hideOp);
  if (!body || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>))
    out[k] =
      PAYLOAD.has(k) && v && typeof v === 'object'
        ? hideValues(v as Record<string, unknown>)
        : k === 'metadata'
          ? hideLastApplied(v)
          : v;
  return out;
}

/** `kubectl apply` keeps the whole Secret, values included, in this annotation. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function hideLastApplied(metadata: unknown): unknown {
  const annotations = (metadata as { annotations?: Record<string, unknown> } | null)?.annotations;
  if (!annotations || !(LAST_APPLIED in annotations)) return metadata;
  return { ...(metadata as object), annotations: { ...annotations, [LAST_APPLIED]: HIDDEN } };
}

function hideValues(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(values).map((k) => [k, values[k] === null ? null : HIDDEN]));
}

function hideOp(op: unknown): unknown {
  if (!op || typeof op !== 'object') return op;
  const o = op as { path?: unknown; value?: unknown };
  if (typeof o.path !== 'string' || !('value' in o)) return op;
  if (o.path.startsWith('/metadata')) return { ...o, value: hideAnnotationOp(o.path, o.value) };
  if (!/^\/(data|stringData)(\/|$)/.test(o.path)) return op;
  const value =
    o.value && typeof o.value === 'object' ? hideValues(o.value as Record<string, unknown>) : HIDDEN;
  return { ...o, value };
}

/** A JSON-patch op on metadata: the last-applied annotation (or annotations as a whole) is hidden. */
function hideAnnotationOp(path: string, value: unknown): unknown {
  if (path === `/metadata/annotations/${LAST_APPLIED.replace('/', '~1')}`) return HIDDEN;
  if (path === '/metadata/annotations' && value && typeof value === 'object')
    return (hideLastApplied({ annotations: value }) as { annotations: unknown }).annotations;
  if (path === '/metadata') return hideLastApplied(value);
  return value;
}
