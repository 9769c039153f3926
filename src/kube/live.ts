import type { Upstream } from '../upstream.js';
import { kubeCall } from './client.js';
import type { KubeRequest } from './request.js';

/** The path of the object a request targets (its parent, for subresources). */
export function objectPath(kr: KubeRequest): string | undefined {
  if (!kr.resourceRequest || !kr.name) return undefined;
  const gv = kr.group ? `/apis/${kr.group}/${kr.version}` : `/api/${kr.version}`;
  const ns = kr.namespace ? `/namespaces/${encodeURIComponent(kr.namespace)}` : '';
  return `${gv}${ns}/${kr.resource}/${encodeURIComponent(kr.name)}`;
}

/**
 * Fetches the live object with the caller's own credentials, so the policy (and
 * the approver) sees what the change applies to. Absent or unreadable → null.
 */
export async function fetchLive(
  upstream: Upstream,
  kr: KubeRequest,
  credentials: Record<string, string | string[]>,
): Promise<Record<string, unknown> | null> {
  const p = objectPath(kr);
  if (!p) return null;
  const r = await kubeCall<Record<string, unknown>>(upstream, { path: p, headers: credentials });
  return r.status === 200 && r.body && typeof r.body === 'object' ? r.body : null;
}

export function resourceVersionOf(obj: unknown): string | undefined {
  const md = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata;
  return typeof md?.resourceVersion === 'string' ? md.resourceVersion : undefined;
}
