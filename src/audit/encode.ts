// One pass from a caller's input to the bytes that are hashed and written: JSON semantics (toJSON,
// undefined dropped, non-finite numbers as null), redaction and RFC 8785 canonical form at once.
// The result equals canonicalize(redact(JSON.parse(JSON.stringify(input)))) field by field (a unit
// test holds it to that), without the copies: each value is serialised exactly once.
import { memberHead, sortedKeys } from '../wire/canonical.js';
import {
  isJsonPatch,
  type PatchOp,
  redactPatchOp,
  redactPayload,
  redactString,
  SECRET_PAYLOAD_KEYS,
} from './redact.js';

/** A top-level field and its value as canonical JSON, in the input's key order. */
export type EncodedField = readonly [key: string, json: string];

type Obj = Record<string, unknown>;

/**
 * The record's fields, each value redacted and canonical. `secrets` is the request's context
 * (targetsSecrets of its resource or action); the top level is treated like any object, so a
 * credential-like top-level key is redacted too. Throws TypeError on what JSON cannot hold.
 */
export function encodeFields(input: Obj, secrets: boolean): EncodedField[] {
  const ctx = { redacting: true, stack: [input] as unknown[] };
  const kind = input.kind;
  const isSecret = kind === 'Secret';
  const inner = secrets || isSecret || kind === 'SecretList';
  const out: EncodedField[] = [];
  for (const k of Object.keys(input)) {
    const json = member(input[k], k, isSecret || secrets, inner, ctx);
    if (json !== undefined) out.push([k, json]);
  }
  return out;
}

/** Canonical JSON of fields kubegate made itself (no redaction: checkpoints, assigned fields). */
export function encodePlain(value: unknown): string {
  const json = encode(value, '', false, { redacting: false, stack: [] });
  if (json === undefined) throw new TypeError('value is not JSON');
  return json;
}

/** JSON text of a key or string: RFC 8785 escapes strings exactly as JSON.stringify does. */
export const quote = (s: string): string => JSON.stringify(s);

interface Ctx {
  redacting: boolean;
  /** Objects being encoded (JSON.stringify refuses cycles, so must we). */
  stack: unknown[];
}

function member(v: unknown, k: string, payloadCtx: boolean, secrets: boolean, ctx: Ctx): string | undefined {
  if (ctx.redacting && payloadCtx && SECRET_PAYLOAD_KEYS.has(k)) {
    // a Secret's payload (rare): keep its key names, as redact() does on the plain value
    const text = JSON.stringify(v);
    return text === undefined ? undefined : encodePlainIn(redactPayload(JSON.parse(text)), ctx);
  }
  return encode(v, k, secrets, ctx);
}

/** What JSON.stringify would serialise in place of `v` (toJSON, boxed primitives). */
function normalize(v: unknown, key: string): unknown {
  if (v !== null && (typeof v === 'object' || typeof v === 'bigint')) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') v = toJSON.call(v, key);
  }
  if (v instanceof Number) return Number(v);
  if (v instanceof String) return String(v);
  if (v instanceof Boolean) return v.valueOf();
  return v;
}

function encode(raw: unknown, key: string, secrets: boolean, ctx: Ctx): string | undefined {
  const v = normalize(raw, key);
  switch (typeof v) {
    case 'string':
      return quote(ctx.redacting ? redactString(v, key === '' ? undefined : key, secrets) : v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      if (v === null) return 'null';
      if (ctx.stack.includes(v)) throw new TypeError('Converting circular structure to JSON');
      ctx.stack.push(v);
      try {
        return Array.isArray(v) ? encodeArray(v, secrets, ctx) : encodeObject(v as Obj, secrets, ctx);
      } finally {
        ctx.stack.pop();
      }
    default:
      return undefined; // undefined, functions, symbols: left out, as JSON.stringify does
  }
}

function encodeArray(arr: unknown[], secrets: boolean, ctx: Ctx): string {
  if (ctx.redacting && isJsonPatch(arr)) {
    // rare (JSON patches): redact the plain ops exactly as redact() does, then serialise
    const plain = JSON.parse(JSON.stringify(arr)) as PatchOp[];
    if (isJsonPatch(plain))
      return encodePlainIn(
        plain.map((op) => redactPatchOp(op, secrets)),
        ctx,
      );
  }
  let out = '[';
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ',';
    // an array item has no key of its own (as in redact())
    out += encode(arr[i], '', secrets, ctx) ?? 'null';
  }
  return `${out}]`;
}

function encodeObject(obj: Obj, secretsCtx: boolean, ctx: Ctx): string {
  const kind = ctx.redacting ? obj.kind : undefined;
  const isSecret = kind === 'Secret';
  // SecretList items carry no kind of their own.
  const secrets = secretsCtx || isSecret || kind === 'SecretList';
  const keys = sortedKeys(obj);
  let out = '{';
  for (const k of keys) {
    const json = member(obj[k], k, isSecret || secretsCtx, secrets, ctx);
    if (json === undefined) continue;
    const head = memberHead(k);
    out += (out.length > 1 ? head.next : head.first) + json;
  }
  return `${out}}`;
}

function encodePlainIn(value: unknown, ctx: Ctx): string {
  const json = encode(value, '', false, { redacting: false, stack: ctx.stack });
  return json ?? 'null';
}
