// Shapes shared by the writer, the verifier, the shippers and the CLI.
import type { DestinationStream } from 'pino';

/** What a caller hands to AuditLog.append(); the log adds seq, timestamp, replica, prev and hash. */
export interface AuditInput {
  event: string;
  request_id?: string;
  plan_id?: string;
  action?: string;
  resource?: string;
  user?: string;
  risk?: string;
  reasons?: string[];
  status?: string;
  approver?: string;
  approvers?: string[];
  duration_seconds?: number;
  policy?: string;
  /** Anything else (http_status, body, message, …) is kept, after redaction. */
  [extra: string]: unknown;
}

/** One line of the JSONL file. */
export type AuditRecord = AuditInput & {
  seq: number;
  timestamp: string;
  prev: string;
  hash: string;
  replica?: string;
};

/** Fields of a `checkpoint` record (beyond the common ones). */
export interface CheckpointFields {
  event: 'checkpoint';
  /** seq of the record just before the checkpoint. */
  signed_seq: number;
  /** hash of that record: it commits to every record up to and including it. */
  signed_hash: string;
  /** base64 Ed25519 signature over checkpointMessage(signed_seq, signed_hash). */
  signature: string;
  /** First 16 hex of sha256(raw 32-byte Ed25519 public key). */
  key_id: string;
}

export interface StdoutSinkConfig {
  type: 'stdout';
  /** Where the pino lines go; defaults to an async stdout destination. Mostly for tests. */
  destination?: DestinationStream;
}

export interface PinoSinkConfig {
  type: 'pino';
  /** A pino transport target: a package name (e.g. "pino-loki") or an absolute path. */
  target: string;
  options?: Record<string, unknown>;
}

export interface WebhookSinkConfig {
  type: 'webhook';
  /** Names the cursor file `<audit file>.cursor-<name>`; keep it stable across restarts. */
  name: string;
  url: string;
  /** Records per POST (default 100). */
  batchSize?: number;
  /** Longest wait for a batch to fill before sending what is there (default 1000 ms). */
  flushMs?: number;
  headers?: Record<string, string>;
  /** Backoff after a failed POST doubles from minBackoffMs up to maxBackoffMs (defaults 250 / 30000). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-request timeout (default 10000 ms). */
  timeoutMs?: number;
  /** Records held in memory before falling back to re-reading the file (default 10000). */
  maxQueue?: number;
  /** One POST per record, shaped by this, instead of JSON arrays (notifications; not from kubegate.yaml). */
  format?: RecordFormat;
  /** Without a cursor, start after the records already in the file instead of at seq 1. */
  fromEnd?: boolean;
  /** How errors and logs name the destination (default: the URL; a Slack webhook URL is a credential). */
  label?: string;
}

/** Turns one record into one request body (per-record webhooks such as notifications). */
export interface RecordFormat {
  /** The body for this record, or undefined to skip it (the cursor still moves past it). */
  body(record: AuditRecord): string | undefined;
  /** Extra headers for one POST, computed when it is sent (e.g. a signature with the time). */
  headers?(body: string): Record<string, string>;
}

export type SinkConfig = StdoutSinkConfig | PinoSinkConfig | WebhookSinkConfig;
