import { readFileSync, statSync } from 'node:fs';
import type { ApproverKeyFile } from '../wire/approver-key.js';
import type { RemoteOptions } from './args.js';
import { CliError } from './errors.js';

/** The dev instance's `cluster_name`; production kubegates set their own. */
export const DEFAULT_CLUSTER = 'kubegate';

/** Where kubegate is and how to trust it. */
export interface Endpoint {
  url: URL;
  /** PEM of the CA that signed kubegate's serving certificate (KUBEGATE_CA); system CAs when absent. */
  ca?: string;
}

export interface Remote {
  endpoint: Endpoint;
  keyFile: string;
  /** The approval tokens' audience: kubegate's `cluster_name` (an approval adds its request's cluster). */
  audience: string;
}

export type Env = Record<string, string | undefined>;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * Reads KUBEGATE_URL, KUBEGATE_CA, APPROVE_KEY and KUBEGATE_GATE (or KUBEGATE_CLUSTER) (flags win).
 * `http://` is accepted only for a loopback host, so tests can run a plain local
 * server; anything else must be https.
 */
export function resolveRemote(env: Env, opts: RemoteOptions): Remote {
  const raw = env.KUBEGATE_URL?.trim();
  if (!raw)
    throw new CliError(
      'KUBEGATE_URL is not set (e.g. export KUBEGATE_URL=https://127.0.0.1:8443; `kubegate dev` writes it to .work/dev/env)',
    );
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`KUBEGATE_URL is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw new CliError(
      `KUBEGATE_URL must be https:// (plain http:// is only accepted for a loopback test server): ${raw}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new CliError(`KUBEGATE_URL must be https://: ${raw}`);

  let ca: string | undefined;
  const caFile = env.KUBEGATE_CA?.trim();
  if (caFile) {
    try {
      ca = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read KUBEGATE_CA ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new CliError(`KUBEGATE_CA ${caFile} holds no PEM certificate`);
  }

  const keyFile = opts.key ?? env.APPROVE_KEY?.trim();
  if (!keyFile)
    throw new CliError(
      'no approver key: pass --key FILE or set APPROVE_KEY (make one with `approve-cli keygen`)',
    );
  const audience =
    opts.gate ?? (env.KUBEGATE_GATE?.trim() || env.KUBEGATE_CLUSTER?.trim() || DEFAULT_CLUSTER);
  return { endpoint: { url, ...(ca !== undefined ? { ca } : {}) }, keyFile, audience };
}

/** Loads an approver's private JWK (written by `approve-cli keygen` or `kubegate dev`), refusing anything else. */
export function loadApproverKey(
  file: string,
  warn: (line: string) => void = () => undefined,
): ApproverKeyFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read approver key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let jwk: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    jwk = v as Record<string, unknown>;
  } catch {
    throw new CliError(`approver key ${file} is not a JWK (JSON)`);
  }
  const ok = (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') || (jwk.kty === 'EC' && jwk.crv === 'P-256');
  if (!ok)
    throw new CliError(`approver key ${file}: only Ed25519 (OKP) or P-256 (EC) keys can sign approvals`);
  if (typeof jwk.d !== 'string')
    throw new CliError(`approver key ${file} is a public key; approve-cli needs the private one`);
  if (typeof jwk.kid !== 'string' || !jwk.kid) throw new CliError(`approver key ${file} has no "kid"`);
  if (typeof jwk.name !== 'string' || !jwk.name)
    throw new CliError(`approver key ${file} has no "name" (the approver)`);
  try {
    if ((statSync(file).mode & 0o077) !== 0)
      warn(`warning: approver key ${file} is readable by other users (chmod 600 it)`);
  } catch {
    // the key was readable a moment ago; the mode check is advice only
  }
  return jwk as unknown as ApproverKeyFile;
}
