import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { REDACTED } from '../audit/redact.js';

type Canonicalize = (input: unknown) => string | undefined;
// canonicalize is CommonJS typed as an ESM default export (see src/audit/chain.ts).
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/** Fields the apiserver and controllers write on their own (status, version counters): nobody's decision. */
const SERVER_WRITTEN = ['resourceVersion', 'generation', 'managedFields'];

/**
 * A digest of the live object as the approver's page showed it, without what the apiserver and
 * controllers move on their own (status, resourceVersion...): a Deployment's status moving as its
 * pods start does not make the page stale, an edit of anything else does. Undefined when the page
 * showed redacted values (a Secret's data): a change there would not show in the digest, so only
 * the exact resourceVersion will do.
 */
export function objectDigest(obj: unknown): string | undefined {
  if (obj === null || typeof obj !== 'object') return obj === undefined || obj === null ? 'none' : undefined;
  const { status: _s, metadata, ...rest } = obj as Record<string, unknown>;
  const meta = { ...((metadata ?? {}) as Record<string, unknown>) };
  for (const k of SERVER_WRITTEN) delete meta[k];
  const text = canonicalize({ ...rest, metadata: meta });
  if (text === undefined || text.includes(JSON.stringify(REDACTED))) return undefined;
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
