import type { Config } from '../../src/config.js';
import { parseRequest } from '../../src/kube/request.js';

/** An agent's ConfigMap create, as parsed. */
export const configMapCreate = () =>
  parseRequest({ method: 'POST', url: '/api/v1/namespaces/default/configmaps', headers: {}, rawHeaders: [] });

/** What the stages before approval leave on a context: an agent's MEDIUM change, decided. */
export function decidedMedium(fingerprint: string) {
  return {
    caller: { user: { username: 'agent', uid: '', groups: [], extra: {} }, credentials: {} },
    body: { object: {}, forward: Buffer.alloc(0), fingerprintBody: {} },
    decided: {
      fingerprint,
      live: null,
      summary: 'MEDIUM risk (change)',
      decision: {
        risk: 'MEDIUM',
        reasons: ['change'],
        approvals: 1,
        override_required: false,
        dry_run_first: false,
        deny: [],
        approvals_from: [],
        policy: 'test',
      },
    },
  };
}

/** The configuration the approval stage reads: approvals required, LOW free, no CRITICAL without override. */
export const approvalConfig = () =>
  ({
    execution: { auto_approve_low_risk: true },
    safety: { require_approval: true, allow_critical: false },
  }) as unknown as Config;
