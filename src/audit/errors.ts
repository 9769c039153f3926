// Typed audit errors, so the proxy can tell "refuse the mutation" (unavailable) apart from
// "refuse to start" (corrupt) and from caller bugs (input) without parsing messages.

/** The log cannot make records durable (write/fsync failed, or closed). Fail closed. */
export class AuditUnavailableError extends Error {
  override readonly name = 'AuditUnavailableError';
  readonly code = 'AUDIT_UNAVAILABLE';
}

/** An existing log does not verify before its final line: possible tampering, never auto-repaired. */
export class AuditCorruptError extends Error {
  override readonly name = 'AuditCorruptError';
  readonly code = 'AUDIT_CORRUPT';
  constructor(
    readonly path: string,
    /** The first seq that could not be verified. */
    readonly seq: number,
    readonly reason: string,
  ) {
    super(`audit log ${path} is corrupt at seq ${seq}: ${reason}; refusing to open (not repairing)`);
  }
}

/** A missing, unreadable or non-Ed25519 audit key. */
export class AuditKeyError extends Error {
  override readonly name = 'AuditKeyError';
  readonly code = 'AUDIT_KEY';
}

/** The caller passed a record the log cannot accept (reserved field, not JSON-serialisable). */
export class AuditInputError extends TypeError {
  override readonly name = 'AuditInputError';
  readonly code = 'AUDIT_INPUT';
}
