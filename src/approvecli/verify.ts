import { fingerprint } from '../wire/fingerprint.js';
import { CliError, FingerprintMismatchError } from './errors.js';
import type { PendingView } from './types.js';

/**
 * Recomputes the request fingerprint from exactly what kubegate showed (the
 * request's parts, the requester, the body) and refuses when it differs from the
 * fingerprint kubegate reported: a token signs the fingerprint, so it must be
 * the fingerprint of what the approver saw. Returns the verified fingerprint.
 */
export function verifyFingerprint(view: PendingView, expectedId?: string): string {
  if (expectedId !== undefined && view.id !== expectedId) {
    throw new CliError(`asked kubegate for ${expectedId} but it answered with ${view.id}; refusing to go on`);
  }
  const d = view.detail;
  let computed: string;
  try {
    computed = fingerprint({
      cluster: d.cluster,
      verb: d.verb,
      group: d.group,
      version: d.version,
      resource: d.resource,
      subresource: d.subresource,
      namespace: d.namespace,
      name: d.name,
      query: d.query,
      path: d.path,
      contentType: d.contentType,
      user: view.requester,
      body: d.body,
      proxyMethod: d.proxyMethod,
      impersonate: d.impersonate,
    });
  } catch {
    computed = '(not computable: the body cannot be canonicalised)';
  }
  if (computed !== view.fingerprint) throw new FingerprintMismatchError(view.id, view.fingerprint, computed);
  return computed;
}
