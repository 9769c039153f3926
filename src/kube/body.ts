import YAML from 'yaml';
import { BINARY_TYPES, honoursDryRun } from './decode.js';
import type { KubeRequest } from './request.js';
import { badRequest, StatusError } from './status.js';

/** Returned for binary bodies the apiserver must decode for us (see decode.ts). */
export const NEEDS_DECODE = Symbol('needs-decode');

/** Content types whose bodies the policy can read. Anything else on a mutation is refused. */
const JSON_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
]);
const YAML_TYPES = new Set(['application/apply-patch+yaml', 'application/yaml']);

/**
 * Parses a mutation's body into what the policy sees as `object`. Fails closed:
 * a body the policy cannot read (protobuf, CBOR, unknown types, bad JSON) is
 * refused rather than forwarded unseen. Protobuf/CBOR creates and updates are
 * decoded by the apiserver itself (NEEDS_DECODE).
 */
export function parseBody(kr: KubeRequest, body: Buffer): unknown {
  if (body.length === 0) return null;
  const text = body.toString('utf8');
  if (JSON_TYPES.has(kr.contentType) || (kr.contentType === '' && kr.verb === 'delete')) {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw badRequest(`request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (YAML_TYPES.has(kr.contentType)) {
    try {
      // unique keys and few aliases: the policy must see the same document the apiserver decodes
      // YAML 1.1 like the apiserver's decoder: `privileged: yes` is true there, so it must be here
      return YAML.parse(text, { uniqueKeys: true, maxAliasCount: 0, version: '1.1', merge: true });
    } catch (err) {
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
