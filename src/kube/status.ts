import type { OutgoingHttpHeaders } from 'node:http';

/** Kubernetes `metav1.Status` reasons kubegate answers with. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'Conflict'
  | 'Invalid';

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: StatusReason;
  code: number;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[] };
}

/**
 * An error that becomes a Kubernetes Status. Every refusal in kubegate is one of
 * these, so kubectl prints a readable message and client-go sees a proper reason.
 */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: KubeStatus['details'],
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): KubeStatus {
    const s: KubeStatus = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

export const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);
export const forbidden = (message: string, details?: KubeStatus['details']) =>
  new StatusError(403, 'Forbidden', message, details);

/** Writes a Status to a response that has not started yet. */
/** What sendStatus needs of a response: HTTP/1.1's ServerResponse and HTTP/2's compat one both have it. */
export interface StatusResponse {
  headersSent: boolean;
  destroy(): unknown;
  writeHead(code: number, headers: OutgoingHttpHeaders): unknown;
  end(body: string): unknown;
}

export function sendStatus(
  res: StatusResponse,
  err: StatusError,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.toStatus());
  res.writeHead(err.code, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Any thrown value as a StatusError (unknown errors become 500 without leaking internals). */
export function asStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return new StatusError(500, 'InternalError', 'kubegate internal error');
}
