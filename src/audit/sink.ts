// What the shipper needs from a sink. offer() must return at once: sinks queue and deliver on
// their own time, so a slow or dead destination never slows down an append.
import type { AuditRecord } from './types.js';

export interface SinkStatus {
  name: string;
  type: 'stdout' | 'pino' | 'webhook';
  /** Records handed to the destination (webhook: acknowledged with 2xx). */
  shipped: number;
  /** Records waiting in memory. */
  queued: number;
  failures: number;
  /** Webhook only: last seq acknowledged and persisted. */
  cursor?: number;
  lastError?: string;
}

export interface Sink {
  readonly name: string;
  /** Durable records, in seq order. */
  offer(records: readonly AuditRecord[]): void;
  /** Delivers what it can within its deadline, then releases resources. */
  close(): Promise<void>;
  status(): SinkStatus;
}
