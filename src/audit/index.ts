// The audit module's public surface: the log, its keys, and the tools behind `kubegate audit`.
export { runAuditCommand } from './cli.js';
export { AuditCorruptError, AuditInputError, AuditKeyError, AuditUnavailableError } from './errors.js';
export { exportRange } from './export.js';
export { generateAuditKey, loadAuditKey, loadAuditPublicKey } from './keys.js';
export { AuditLog, type AuditLogOptions } from './log.js';
export { REDACTED, redact } from './redact.js';
export type { SinkStatus } from './sink.js';
export type { AuditInput, AuditRecord, SinkConfig } from './types.js';
export { type VerifyResult, verifyAuditFile } from './verify.js';
