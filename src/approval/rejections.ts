import type { StateStore } from '../state/store.js';
import type { PendingRequest } from '../wire/request-view.js';

/** How long the same request, once rejected, gets the rejection instead of a new hold or plan. */
export const REJECTION_MEMORY_MS = 10 * 60_000;

/** A request with this fingerprint an approver rejected within the memory window, if any. */
export async function recentRejection(
  store: StateStore,
  fingerprint: string,
): Promise<PendingRequest | undefined> {
  const was = await store.findPendingByFingerprint(fingerprint, ['rejected']);
  return was && Date.now() - was.updatedAt <= REJECTION_MEMORY_MS ? was : undefined;
}
