/**
 * approve-cli's failures, told apart by type so the runner can pick the exit code
 * and the one line to print. Exit codes: 1 a refusal or failure, 2 a usage error.
 */

/** Something the approver can fix: missing env, unreadable key, kubegate down. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Wrong command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** kubegate answered with a Kubernetes Status (or another non-2xx answer). */
export class ApiStatusError extends Error {
  override name = 'ApiStatusError';
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The fingerprint kubegate reported does not match the request it showed us:
 * signing it would approve something the approver has not seen.
 */
export class FingerprintMismatchError extends Error {
  override name = 'FingerprintMismatchError';
  constructor(
    readonly requestId: string,
    readonly reported: string,
    readonly computed: string,
  ) {
    super(
      `FINGERPRINT MISMATCH for ${requestId}: kubegate reported ${reported} but the request it showed hashes to ${computed}. ` +
        'What kubegate would run is not what it showed you. Do NOT approve it; report this to kubegate operators.',
    );
  }
}
