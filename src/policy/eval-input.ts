import type { PolicyInput } from './input.js';

/** The policy input's top-level keys and request keys: anything else is a typo, refused. */
const TOP_KEYS = ['request', 'user', 'cluster', 'object', 'oldObject', 'config'] as const;
const REQUEST_KEYS = [
  'verb',
  'group',
  'version',
  'resource',
  'subresource',
  'namespace',
  'name',
  'dryRun',
  'path',
  'query',
  'contentType',
  'resourceRequest',
  'impersonate',
] as const;
const USER_KEYS = ['username', 'uid', 'groups', 'extra'] as const;

export class InputError extends Error {
  override name = 'InputError';
}

function unknownKeys(o: unknown, allowed: readonly string[], at: string): string[] {
  if (o === undefined || o === null) return [];
  if (typeof o !== 'object' || Array.isArray(o)) return [`${at} must be an object`];
  return Object.keys(o)
    .filter((k) => !allowed.includes(k))
    .map((k) => `${at ? `${at}.` : ''}${k}: unknown key (allowed: ${allowed.join(', ')})`);
}

/** A hand-written `kubegate policy eval` input, checked: a typo must not read as a LOW read. */
export function checkInput(raw: unknown): Partial<PolicyInput> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError('input must be a JSON object {request, user, cluster, object, oldObject, config}');
  const r = raw as Record<string, unknown>;
  const problems = [
    ...unknownKeys(r, TOP_KEYS, ''),
    ...unknownKeys(r.request, REQUEST_KEYS, 'request'),
    ...unknownKeys(r.user, USER_KEYS, 'user'),
  ];
  if (r.request === undefined)
    problems.push('request: missing (verb, resource, namespace, … of the request)');
  else if (typeof (r.request as Record<string, unknown>)?.verb !== 'string')
    problems.push('request.verb: missing (get, list, create, update, patch, delete, …)');
  if (problems.length) throw new InputError(`invalid policy input:\n  ${problems.join('\n  ')}`);
  return r as Partial<PolicyInput>;
}

/** Fills what a hand-written input may leave out, so authors can write only what matters. */
export function completeInput(raw: Partial<PolicyInput>): PolicyInput {
  const r = (raw.request ?? {}) as Partial<PolicyInput['request']>;
  return {
    request: {
      verb: r.verb ?? 'get',
      group: r.group ?? '',
      version: r.version ?? 'v1',
      resource: r.resource ?? '',
      subresource: r.subresource ?? '',
      namespace: r.namespace ?? '',
      name: r.name ?? '',
      dryRun: r.dryRun ?? false,
      path: r.path ?? '',
      query: r.query ?? {},
      contentType: r.contentType ?? '',
      resourceRequest: r.resourceRequest ?? (r.resource ?? '') !== '',
      impersonate: r.impersonate ?? { user: null, uid: null, groups: [], extra: {} },
    },
    user: { username: '', uid: '', groups: [], extra: {}, ...raw.user },
    cluster: { name: '', labels: {}, ...raw.cluster },
    object: raw.object ?? null,
    oldObject: raw.oldObject ?? null,
    config: raw.config ?? {},
  };
}
