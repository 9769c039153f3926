import type { Logger } from 'pino';
import type { PruneRules, StateStore } from './store.js';

const HOUR_MS = 3_600_000;
/** Well past any clock skew kubegate tolerates (30 s) and any consumption in flight (30 s). */
const MARGIN_MS = HOUR_MS;

/** The bounds for one pass: token records once replay is impossible, the rest after `retentionDays`. */
export function pruneRules(now: number, maxTokenTtlSeconds: number, retentionDays: number): PruneRules {
  return {
    tokensExpiredBefore: now - MARGIN_MS,
    tokenWindowBefore: now - maxTokenTtlSeconds * 1000 - MARGIN_MS,
    // never shorter than the token window, so a record outlives every token about it
    recordsBefore: Math.min(now - retentionDays * 24 * HOUR_MS, now - maxTokenTtlSeconds * 1000 - MARGIN_MS),
  };
}

/**
 * Prunes the store now and then (first after `firstMs`, then every `everyMs`), so a long-running
 * gate does not grow without bound: in the Kubernetes store every record is a ConfigMap in etcd.
 * Returns a function that stops it.
 */
export function schedulePruning(
  store: StateStore,
  rules: () => PruneRules,
  logger: Logger,
  everyMs = 10 * 60_000,
  firstMs = 60_000,
): () => void {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      const n = await store.prune(rules());
      if (n > 0) logger.info({ pruned: n }, 'state store pruned');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'state store pruning failed; will retry');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(() => void pass(), firstMs).unref();
  const every = setInterval(() => void pass(), everyMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
