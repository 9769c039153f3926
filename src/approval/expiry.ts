import type { Logger } from 'pino';
import type { ApprovalService } from './service.js';

/**
 * Expires requests nobody decided within `seconds`, checking every minute (sooner for short
 * expiries). Returns a function that stops it.
 */
export function scheduleExpiry(approvals: ApprovalService, seconds: number, logger: Logger): () => void {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      const n = await approvals.expire(seconds * 1000);
      if (n > 0) logger.info({ expired: n }, 'held requests expired');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'expiring held requests failed; will retry');
    } finally {
      running = false;
    }
  };
  const every = setInterval(() => void pass(), Math.min(60_000, (seconds * 1000) / 2)).unref();
  return () => clearInterval(every);
}
