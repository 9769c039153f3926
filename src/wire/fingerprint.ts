import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { hasImpersonation, type Impersonation } from './impersonation.js';
import { honoursDryRun } from './verbs.js';

/** What identifies one request for approval: the same for its dry run and its real run. */
export interface FingerprintParts {
  /** The cluster it is for: the same request on another cluster is another request. */
  cluster: string;
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /**
   * Query parameters, in order (exec's `command` words are a list). `dryRun` is left out where
   * the apiserver honours it, so a dry run and the real request match; elsewhere a "dry run" is
   * held like the real request and must not approve it.
   */
  query: Record<string, string[]>;
  /** How the body is to be applied (merge vs strategic vs JSON patch differ on the same body). */
  contentType: string;
  /** For non-resource requests the path identifies the target. */
  path: string;
  user: string;
  /** The parsed body (null when there is none). */
  body: unknown;
  /**
   * The HTTP method of a `proxy` request, which the backend receives as is (an approved GET must
   * not run as a DELETE). Other connect requests (exec, attach, port-forward) leave it out: kubectl
   * retries the same exec as POST after a GET, and both mean the same.
   */
  proxyMethod?: string | undefined;
  /** Impersonate-* headers the client sent: an approval for "agent" must not run "as admin". */
  impersonate?: Impersonation | undefined;
}

/**
 * Query parameters that change how the apiserver answers, never what it stores (kubectl's
 * `--request-timeout` sends `timeout`): re-running an approved command with another timeout is the
 * same request. Only for resource writes (see honoursDryRun): a proxied backend may read them otherwise.
 */
const NOT_WHAT_IS_STORED = new Set(['timeout', 'pretty']);

/**
 * SHA-256 over RFC 8785 canonical JSON of the request's parts. approve-cli
 * recomputes it from what it shows the approver, so a signature covers exactly
 * what was seen, and kubegate recomputes it on every retry.
 */
export function fingerprint(p: FingerprintParts): string {
  const dropDryRun = honoursDryRun(p);
  const query = Object.fromEntries(
    Object.entries(p.query).filter(([k]) => !(dropDryRun && (k === 'dryRun' || NOT_WHAT_IS_STORED.has(k)))),
  );
  const doc = {
    cluster: p.cluster,
    verb: p.verb,
    group: p.group,
    version: p.version,
    resource: p.resource,
    subresource: p.subresource,
    namespace: p.namespace,
    name: p.name,
    path: p.path,
    contentType: p.contentType,
    query,
    user: p.user,
    body: p.body ?? null,
    ...(p.proxyMethod ? { method: p.proxyMethod } : {}),
    ...(p.impersonate && hasImpersonation(p.impersonate) ? { impersonate: p.impersonate } : {}),
  };
  // equal to the `canonicalize` package's text, which older fingerprints were made with
  return `sha256:${hash('sha256', canonicalJson(doc), 'hex')}`;
}
