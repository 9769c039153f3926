// Redaction before anything reaches the audit file: Secret payloads and credential-like fields.
// Everything else in a body is kept, because the log is only useful if it shows what changed.
import { KeyMemo } from '../wire/key-memo.js';

export const REDACTED = '[REDACTED]';

// Compared after lower-casing and removing - _ . and spaces, so "X-Auth-Token", "access_token",
// "clientSecret" and "Authorization" all match; "secretName" or "tokenExpirationSeconds" do not
// (the latter is a number anyway: only string values are replaced).
const SENSITIVE_KEY =
  /token|passw(or)?d|passphrase|authorization|bearer|apikey|secret$|secretkey|privatekey|clientkeydata|cookie|credential/;
// …unless the key names a reference to a secret rather than the secret itself
// ("secretName", "tokenFile", "token_id", "tokenType", "expirationSeconds").
const REFERENCE_KEY =
  /(id|ids|jti|name|names|ref|file|path|type|kind|seconds|ttl|expiry|expires|expiration|audiences?|count)$/;
const BEARER_VALUE = /^\s*bearer\s+\S/i;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
export const SECRET_PAYLOAD_KEYS = new Set(['data', 'stringData']);
// Keys under which a caller may pass a raw (string) request or response body.
const BODY_KEY = /(^|_)(body|patch|object)$/i;
const SECRETS_RESOURCE = /(^|[/\s])secrets([/\s]|$)/;
const PATCH_OPS = new Set(['add', 'remove', 'replace', 'move', 'copy', 'test']);

/** True when the record's resource (e.g. "default/secrets/db") or action names Secrets. */
export function targetsSecrets(resource?: string, action?: string): boolean {
  return (
    (resource !== undefined && SECRETS_RESOURCE.test(resource)) ||
    (action !== undefined && SECRETS_RESOURCE.test(action))
  );
}

// Keys repeat from record to record (a body's field names): verdicts are remembered (bounded).
const keyVerdicts = new KeyMemo((key) => {
  const k = key.toLowerCase().replace(/[-_.\s]/g, '');
  return SENSITIVE_KEY.test(k) && !REFERENCE_KEY.test(k);
});

/** How many key verdicts are remembered (for tests of the bound). */
export const rememberedKeyVerdicts = (): number => keyVerdicts.size;

export const isSensitiveKey = (key: string): boolean => keyVerdicts.get(key);

/**
 * Returns a redacted copy of a JSON-like value (the input is not modified):
 * - `data`/`stringData` values of any object with kind Secret (and of SecretList items);
 * - when `resource` targets secrets: the same in any object (merge patches), JSON-patch ops whose
 *   path is under /data or /stringData, raw string bodies that are not JSON, and the
 *   last-applied-configuration annotation (it holds the whole Secret);
 * - string values of credential-like keys (token, password, authorization, bearer, …) and any
 *   string that is a "Bearer …" header.
 */
export function redact<T>(value: T, resource?: string): T {
  return walk(value, undefined, targetsSecrets(resource)) as T;
}

function walk(value: unknown, key: string | undefined, secrets: boolean): unknown {
  if (typeof value === 'string') return redactString(value, key, secrets);
  if (Array.isArray(value)) {
    if (isJsonPatch(value)) return value.map((op) => redactPatchOp(op, secrets));
    return value.map((item) => walk(item, undefined, secrets));
  }
  if (value !== null && typeof value === 'object')
    return redactObject(value as Record<string, unknown>, secrets);
  return value;
}

export function redactString(value: string, key: string | undefined, secrets: boolean): string {
  if (key !== undefined && isSensitiveKey(key)) return REDACTED;
  if (BEARER_VALUE.test(value)) return REDACTED;
  if (secrets && key === LAST_APPLIED) return REDACTED;
  const looksJson = /^\s*[[{]/.test(value);
  if (looksJson && (secrets || value.includes('Secret') || SENSITIVE_KEY.test(value.toLowerCase()))) {
    // A body passed as raw JSON text: redact its structure, keep it as text.
    try {
      const parsed: unknown = JSON.parse(value);
      const cleaned = walk(parsed, undefined, secrets);
      const out = JSON.stringify(cleaned);
      return out === JSON.stringify(parsed) ? value : out;
    } catch {
      // not JSON after all: fall through
    }
  }
  // A Secret body we cannot parse (YAML apply patch, protobuf…) could hold anything.
  if (secrets && key !== undefined && BODY_KEY.test(key)) return REDACTED;
  return value;
}

function redactObject(obj: Record<string, unknown>, secretsContext: boolean): Record<string, unknown> {
  const kind = obj.kind;
  const isSecret = kind === 'Secret';
  // SecretList items carry no kind of their own.
  const secrets = secretsContext || isSecret || kind === 'SecretList';
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if ((isSecret || secretsContext) && SECRET_PAYLOAD_KEYS.has(k)) out[k] = redactPayload(v);
    else out[k] = walk(v, k, secrets);
  }
  return out;
}

/** Keeps the key names (which keys changed is useful), replaces every value. */
export function redactPayload(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.keys(v).map((k) => [k, REDACTED]));
  }
  return REDACTED;
}

export interface PatchOp {
  op: string;
  path: string;
  [k: string]: unknown;
}

export function isJsonPatch(arr: unknown[]): arr is PatchOp[] {
  return (
    arr.length > 0 &&
    arr.every(
      (op) =>
        op !== null &&
        typeof op === 'object' &&
        PATCH_OPS.has((op as PatchOp).op) &&
        typeof (op as PatchOp).path === 'string',
    )
  );
}

export function redactPatchOp(op: PatchOp, secrets: boolean): PatchOp {
  if (!('value' in op)) return op;
  const segments = op.path.split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = segments[segments.length - 1] ?? '';
  const first = segments[1] ?? '';
  if (secrets && SECRET_PAYLOAD_KEYS.has(first)) {
    return { ...op, value: segments.length === 2 ? redactPayload(op.value) : REDACTED };
  }
  if (secrets && last === LAST_APPLIED) return { ...op, value: REDACTED };
  if (last !== '' && isSensitiveKey(last) && typeof op.value === 'string') return { ...op, value: REDACTED };
  // Whole-object or parent-path ops: the value is an object that the ordinary rules cover.
  return { ...op, value: walk(op.value, last === '' ? undefined : last, secrets) };
}
