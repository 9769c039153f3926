// The audit stage as the forwarder tests need it: it passes reads (and writes nothing).
import { pino } from 'pino';
import type { AuditLog } from '../../src/audit/log.js';
import { RequestAudit } from '../../src/chain/audit.js';
import { createMetrics } from '../../src/metrics.js';

export function readPassingAudit(): RequestAudit {
  return new RequestAudit(
    {} as AuditLog,
    createMetrics({ defaultMetrics: false }),
    pino({ level: 'silent' }),
    {
      approvalDisabled: false,
      reads: 'none',
    },
  );
}
