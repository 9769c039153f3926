// The generic webhook's JSON event: an allow-list of fields copied from the audit record. Never
// the record itself: bodies, policy input and anything added to records later stay in the log.
import type { AuditRecord } from '../audit/types.js';
import { isWebhookEvent, requestPage, text, texts } from './events.js';

export interface WebhookEvent {
  event: string;
  request_id: string;
  risk?: string;
  /** The requester. */
  user?: string;
  action?: string;
  /** The target: namespace/resource/name. */
  resource?: string;
  reasons?: string[];
  approver?: string;
  approvers?: string[];
  /** Only when true: an `executed` dry run changed nothing. */
  dry_run?: true;
  timestamp: string;
  /** Audit seq: receivers dedupe on (replica, seq); delivery is at-least-once. */
  seq: number;
  replica?: string;
  /** The request's page in the approval console. */
  url?: string;
}

const STRING_FIELDS = ['risk', 'user', 'action', 'resource', 'approver', 'replica'] as const;
const LIST_FIELDS = ['reasons', 'approvers'] as const;

/** The event for a record, or undefined when the webhook does not get this record. */
export function webhookEvent(r: AuditRecord, consoleUrl?: string): WebhookEvent | undefined {
  const id = text(r, 'request_id');
  if (!isWebhookEvent(r) || id === undefined) return undefined;
  const out: WebhookEvent = { event: r.event, request_id: id, timestamp: r.timestamp, seq: r.seq };
  for (const k of STRING_FIELDS) {
    const v = text(r, k);
    if (v !== undefined) out[k] = v;
  }
  for (const k of LIST_FIELDS) {
    const v = texts(r, k);
    if (v !== undefined) out[k] = [...v];
  }
  if (r.dry_run === true) out.dry_run = true;
  if (consoleUrl) out.url = requestPage(consoleUrl, id);
  return out;
}
