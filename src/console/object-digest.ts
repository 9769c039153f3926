import { objectContentHash } from '../approval/object-version.js';
import { REDACTED } from '../audit/redact.js';

/**
 * A digest of the live object as the approver's page showed it: the same content hash approvals
 * bind to (status and the version counters aside), so a Deployment's status moving as its pods
 * start does not make the page stale and an edit of anything else does. Undefined when the page
 * showed redacted values (a Secret's data): a change there would not show in the digest, so only
 * the exact resourceVersion will do.
 */
export function objectDigest(obj: unknown): string | undefined {
  if (obj === null || obj === undefined) return 'none';
  if (typeof obj !== 'object' || JSON.stringify(obj).includes(JSON.stringify(REDACTED))) return undefined;
  return objectContentHash(obj);
}
