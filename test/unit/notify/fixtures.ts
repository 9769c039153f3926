// Audit records as kubegate writes them, plus fields that must never leave in a notification.
import type { AuditRecord } from '../../../src/audit/types.js';

export const LEAKS = ['hunter2', 'policy_input', 'oldObject', 'c2VjcmV0', 'fingerprint', 'prev-hash'];

export function record(fields: Partial<AuditRecord> & { event: string }): AuditRecord {
  return {
    seq: 7,
    timestamp: '2026-12-01T10:00:00.000Z',
    request_id: 'req-20261201-abcdef0123',
    action: 'patch v1 configmaps team-a/settings',
    resource: 'team-a/configmaps/settings',
    user: 'agent',
    risk: 'MEDIUM',
    reasons: ['change to ConfigMap team-a/settings'],
    status: 'pending',
    policy: 'ab5069d3',
    replica: 'kubegate-0',
    fingerprint: 'sha256:0123',
    // Must never be forwarded, even though the log keeps (redacted) copies of such fields.
    body: { data: { password: 'hunter2' } },
    policy_input: { request: { verb: 'patch' } },
    oldObject: { data: { token: 'c2VjcmV0' } },
    message: 'password hunter2',
    prev: 'prev-hash',
    hash: 'hash',
    ...fields,
  };
}
