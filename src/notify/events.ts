// Which audit records become notifications, and where. Only request events are candidates;
// kubegate's own previews (approve-cli show) are on record but are not news to anyone.
import type { AuditRecord } from '../audit/types.js';

/** Events the generic webhook receives (a `blocked` one only while it waits for an override). */
const WEBHOOK_EVENTS = new Set([
  'held',
  'approved',
  'rejected',
  'cancelled',
  'executed',
  'failed',
  'rolled_back',
]);

function isPreview(r: AuditRecord): boolean {
  return r.origin === 'preview';
}

/** Waits for an approver: held, or a CRITICAL request blocked until someone overrides it. */
export function waitsForApproval(r: AuditRecord): boolean {
  if (isPreview(r) || typeof r.request_id !== 'string') return false;
  return r.event === 'held' || (r.event === 'blocked' && r.status === 'pending');
}

/** Goes to the generic (signed JSON) webhook. */
export function isWebhookEvent(r: AuditRecord): boolean {
  if (isPreview(r) || typeof r.request_id !== 'string') return false;
  return WEBHOOK_EVENTS.has(r.event) || waitsForApproval(r);
}

/** A string field of a record, or undefined when absent or not a string. */
export function text(r: AuditRecord, key: string): string | undefined {
  const v = r[key];
  return typeof v === 'string' ? v : undefined;
}

/** A list-of-strings field (reasons, approvers), or undefined. */
export function texts(r: AuditRecord, key: string): string[] | undefined {
  const v = r[key];
  return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;
}

/** The link target for notifications: the request's page in the approval console. */
export function requestPage(consoleUrl: string, id: string): string {
  return `${new URL(consoleUrl).origin}/kubegate/ui/requests/${encodeURIComponent(id)}`;
}
