import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** Written by controllers and the apiserver as an object lives: never what an approver approved. */
const VOLATILE_METADATA = ['resourceVersion', 'managedFields', 'generation'];

/**
 * A hash of the object as an approver judges it: everything but its status and the metadata the
 * apiserver moves on every write. A Deployment whose pods come up changes its status (and so its
 * resourceVersion) for a while after each change; an approval bound to the version the approver
 * saw still applies then, and only then: a change to spec, labels, annotations or a re-created
 * object (another uid) changes the hash.
 */
export function objectContentHash(obj: unknown): string | undefined {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const { status: _status, metadata, ...rest } = obj as Record<string, unknown>;
  const md = { ...((metadata ?? {}) as Record<string, unknown>) };
  for (const k of VOLATILE_METADATA) delete md[k];
  const canon = (canonicalize as unknown as (v: unknown) => string | undefined)({ ...rest, metadata: md });
  return canon === undefined ? undefined : `sha256:${createHash('sha256').update(canon).digest('hex')}`;
}
