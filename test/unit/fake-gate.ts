import path from 'node:path';
import { pino } from 'pino';
import { Notifier } from '../../src/approval/notifier.js';
import { ApprovalService } from '../../src/approval/service.js';
import { AuditLog } from '../../src/audit/log.js';
import { RequestAudit } from '../../src/chain/audit.js';
import { parseConfig } from '../../src/config.js';
import { createMetrics } from '../../src/metrics.js';
import type { StateStore } from '../../src/state/store.js';

/** A real approval service over `store`, auditing to a new log in `dir`; `more` is merged into the config. */
export async function approvalGate(store: StateStore, dir: string, more: Record<string, unknown> = {}) {
  const logger = pino({ level: 'silent' });
  const config = parseConfig(
    {
      tls: { cert: 'x', key: 'x' },
      policy: { bundle: 'x' },
      approvers: { jwks: 'x' },
      audit: { path: 'x' },
      ...more,
    },
    dir,
  );
  const log = await AuditLog.open({ path: path.join(dir, `audit-${Math.random()}.jsonl`), logger });
  const metrics = createMetrics({ defaultMetrics: false });
  const audit = new RequestAudit(log, metrics, logger, { approvalDisabled: false, reads: 'none' });
  const approvals = new ApprovalService({
    config,
    store,
    notifier: new Notifier(),
    audit,
    log,
    jwks: () => ({ keys: [] }),
    logger,
  });
  return { config, approvals, store, audit, metrics, log };
}
