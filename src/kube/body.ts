import YAML from 'yaml';
import { honoursDryRun } from '../wire/verbs.js';
import { BINARY_TYPES } from './decode.js';
import type { KubeRequest } from './request.js';
import { badRequest, StatusError } from './status.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The body as text, only if every decoder reads it the same way: strict UTF-8, no byte-order
 * mark (the apiserver's YAML decoder would switch to UTF-16 on FF FE and read other text than
 * ours), no NUL (a parser that skips it and one that stops at it disagree).
 */
function strictText(body: Buffer): string {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest('request body is not valid UTF-8: send JSON or YAML as UTF-8');
  }
  if (text.startsWith('\uFEFF'))
    throw badRequest('request body starts with a byte-order mark: send it without');
  if (text.includes('\u0000')) throw badRequest('request body contains a NUL character');
  return text;
}

/**
 * JSON is forwarded as the client's bytes, so it must mean the same to the apiserver's Go decoder
 * as to JSON.parse. Refused: a key repeated in one object (Go decodes the second value into the
 * first, merging nested objects; JSON.parse keeps only the last), an integer past 2^53 (rounded
 * here, exact there) and a lone UTF-16 surrogate. Runs on text JSON.parse has already accepted.
 */
function unambiguousJson(text: string): void {
  const objects: (Set<string> | null)[] = []; // one key set per open object, null per open array
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1)) as string;
      if (LONE_SURROGATE.test(s)) throw badRequest('request body has a string with a lone UTF-16 surrogate');
      const keys = objects[objects.length - 1];
      if (keyNext && keys) {
        if (keys.has(s))
          throw badRequest(`key ${JSON.stringify(s)} appears twice in one JSON object: send it once`);
        keys.add(s);
        keyNext = false;
      }
      i = j;
    } else if (c === '{') {
      objects.push(new Set());
      keyNext = true;
    } else if (c === '[') objects.push(null);
    else if (c === '}' || c === ']') objects.pop();
    else if (c === ',') keyNext = objects[objects.length - 1] !== null;
    else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i;
      while (j < text.length && /[-+0-9.eE]/.test(text[j]!)) j++;
      const token = text.slice(i, j);
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token)))
        throw badRequest(`the integer ${token} is past 2^53: kubegate cannot read it exactly`);
      i = j - 1;
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Deeper than any real object; far below what the policy engine and canonical JSON can walk. */
const MAX_DEPTH = 200;

/**
 * The parsed body, if it nests at most MAX_DEPTH levels and (for YAML) holds only what JSON can
 * say exactly: kubegate forwards a YAML body as the JSON it read, so a timestamp, binary, set,
 * map or an integer past 2^53 (which would change on the way) is refused. Checked without recursion.
 */
function checked(value: unknown, yaml = false): unknown {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (yaml) {
      const ok =
        v === null ||
        typeof v === 'string' ||
        typeof v === 'boolean' ||
        (typeof v === 'number' && Number.isFinite(v) && (!Number.isInteger(v) || Number.isSafeInteger(v))) ||
        Array.isArray(v) ||
        (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype);
      if (!ok)
        throw badRequest(
          'the YAML body holds a value JSON cannot carry exactly (a timestamp, binary, set, omap, non-finite or huge number): send JSON',
        );
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_DEPTH) throw badRequest(`request body nests deeper than ${MAX_DEPTH} levels`);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return value;
}

/** Returned for binary bodies the apiserver must decode for us (see decode.ts). */
export const NEEDS_DECODE = Symbol('needs-decode');

/** Content types whose bodies the policy can read. Anything else on a mutation is refused. */
export const JSON_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
]);
export const YAML_TYPES = new Set(['application/apply-patch+yaml', 'application/yaml']);

/**
 * Parses a mutation's body into what the policy sees as `object`. Fails closed:
 * a body the policy cannot read (protobuf, CBOR, unknown types, bad JSON) is
 * refused rather than forwarded unseen. Protobuf/CBOR creates and updates are
 * decoded by the apiserver itself (NEEDS_DECODE).
 */
export function parseBody(kr: KubeRequest, body: Buffer): unknown {
  if (body.length === 0) return null;
  if (JSON_TYPES.has(kr.contentType) || (kr.contentType === '' && kr.verb === 'delete')) {
    const text = strictText(body);
    try {
      const value = JSON.parse(text);
      unambiguousJson(text);
      return checked(value);
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (YAML_TYPES.has(kr.contentType)) {
    const text = strictText(body);
    try {
      // unique keys and few aliases: the policy must see the same document the apiserver decodes
      // YAML 1.1 like the apiserver's decoder: `privileged: yes` is true there, so it must be here
      return checked(
        YAML.parse(text, { uniqueKeys: true, maxAliasCount: 0, version: '1.1', merge: true }),
        true,
      );
    } catch (err) {
      if (err instanceof StatusError) throw err;
      throw badRequest(`request body is not valid YAML: ${(err as Error).message}`);
    }
  }
  if (
    BINARY_TYPES.has(kr.contentType) &&
    kr.resourceRequest &&
    (kr.verb === 'create' || kr.verb === 'update') &&
    honoursDryRun(kr)
  ) {
    return NEEDS_DECODE;
  }
  throw new StatusError(
    415,
    'UnsupportedMediaType',
    `kubegate cannot inspect a "${kr.contentType || 'untyped'}" body here, so it will not forward it: send JSON`,
  );
}
