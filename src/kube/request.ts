import type { IncomingHttpHeaders } from 'node:http';
import type { Impersonation } from '../wire/impersonation.js';
import { badRequest, StatusError } from './status.js';

/**
 * One request as the Kubernetes API server understands it. Built once by
 * `parseRequest`; every later stage reads it and none re-parses the URL, so what
 * the policy decides on is exactly what is forwarded (`path` + `search`).
 */
export interface KubeRequest {
  method: string;
  /** get/list/watch/create/update/patch/delete/deletecollection/connect; lowercase method for non-resource URLs. */
  verb: string;
  resourceRequest: boolean;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** Canonical path that is forwarded upstream. */
  path: string;
  /** Canonical query that is forwarded upstream ('' or '?a=b'). */
  search: string;
  query: Record<string, string[]>;
  dryRun: boolean;
  /** Media type of the body without parameters ('' when absent). */
  contentType: string;
  impersonate: Impersonation;
  /** The client asked for a protocol upgrade (exec/attach/port-forward streams). */
  upgrade: boolean;
  /** True when the request can change the cluster (anything but a read). */
  mutating: boolean;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A method's verb before the path refines it (one string each, not one per request). */
const VERB_OF: Record<string, string> = {
  GET: 'get',
  HEAD: 'head',
  OPTIONS: 'options',
  POST: 'post',
  PUT: 'put',
  PATCH: 'patch',
  DELETE: 'delete',
};
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Subresources that open a stream into a workload or node: always gated as `connect`. */
const CONNECT_SUBRESOURCES = new Set(['exec', 'attach', 'portforward', 'proxy']);
/** `namespaces/{name}/{x}` where x is a subresource of the Namespace, not a resource inside it. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
/** API groups, versions, resources and subresources are lowercase DNS-ish words. */
const LOWER_WORD = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
/** Object and namespace names: anything the API server accepts in a path segment, minus the dangerous. */
const NAME = /^[A-Za-z0-9_:@+=~-]([A-Za-z0-9._:@+=~-]*[A-Za-z0-9_:@+=~-])?$/;

/**
 * Splits the raw path into decoded segments, refusing anything ambiguous: dot
 * segments, empty segments (`//`), encoded slashes, double encoding, control
 * characters and trailing dots. Refusing beats guessing how the upstream (or a
 * proxy between us) would normalise them.
 */
export function splitPath(rawPath: string): string[] {
  if (!rawPath.startsWith('/'))
    throw badRequest(`request path must start with "/": ${JSON.stringify(rawPath)}`);
  if (rawPath === '/') return [];
  const raw = rawPath.slice(1).split('/');
  // one trailing slash is how some clients ask for a collection; everything else empty is ambiguous
  if (raw.length > 1 && raw[raw.length - 1] === '') raw.pop();
  return raw.map((seg) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw badRequest(`malformed percent-encoding in path segment ${JSON.stringify(seg)}`);
    }
    if (decoded === '') throw badRequest('ambiguous path: empty segment ("//")');
    if (decoded === '.' || decoded === '..') throw badRequest('ambiguous path: "." or ".." segment');
    if (/[/\\%]/.test(decoded))
      throw badRequest(`ambiguous path: encoded "/", "\\" or "%" in ${JSON.stringify(seg)}`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (/[\u0000-\u001f\u007f\s]/.test(decoded)) throw badRequest('control or space character in path');
    if (decoded.endsWith('.')) throw badRequest(`ambiguous path: trailing dot in ${JSON.stringify(decoded)}`);
    return decoded;
  });
}

/** Parameters that are lists, in order: exec's command words, port-forward's ports. */
const LIST_PARAMS = new Set(['command', 'ports']);

/** The query of a URL without one: shared (a parsed query is never changed), frozen to keep it so. */
const NO_QUERY: Record<string, string[]> = Object.freeze(Object.create(null));

/** Parses the query, refusing other parameters repeated with different values. */
export function parseQuery(rawQuery: string): Record<string, string[]> {
  if (rawQuery === '') return NO_QUERY;
  const out: Record<string, string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    const prev = out[k];
    if (!prev) out[k] = [v];
    else if (LIST_PARAMS.has(k)) prev.push(v);
    else if (!prev.includes(v)) {
      throw badRequest(`query parameter "${k}" is repeated with different values; send it once`);
    }
  }
  return out;
}

export function canonicalQuery(query: Record<string, string[]>): string {
  const params = new URLSearchParams();
  for (const [k, vs] of Object.entries(query)) for (const v of vs) params.append(k, v);
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function encodeSegment(seg: string): string {
  return encodeURIComponent(seg).replace(/%3A/g, ':').replace(/%40/g, '@');
}

/** Words kept once: at most this many, each at most this long (then the rest are not shared). */
const MAX_SHARED = 4096;
const MAX_SHARED_LENGTH = 64;
const shared = new Map<string, string>();

/**
 * One string for a word every request repeats (a group, version, resource, namespace, content
 * type): a held request keeps its parsed request for minutes, and ten thousand of them kept ten
 * thousand copies of "configmaps".
 */
function share(word: string): string {
  if (word.length > MAX_SHARED_LENGTH) return word;
  const known = shared.get(word);
  if (known !== undefined) return known;
  if (shared.size < MAX_SHARED) shared.set(word, word);
  return word;
}

function checkWord(kind: string, value: string): string {
  if (!LOWER_WORD.test(value))
    throw badRequest(`invalid ${kind} ${JSON.stringify(value)} (lowercase letters, digits, "." and "-")`);
  return share(value);
}

function checkName(kind: string, value: string): string {
  if (!NAME.test(value)) throw badRequest(`invalid ${kind} ${JSON.stringify(value)}`);
  return value;
}

const IMPERSONATE = /^\s*impersonate-/i;
/** A request without Impersonate-* headers (nearly all of them): shared, frozen. */
const NO_IMPERSONATION: Impersonation = Object.freeze({
  user: null,
  uid: null,
  groups: Object.freeze([]) as unknown as string[],
  extra: Object.freeze({}),
});

/** Reads every `Impersonate-*` header (any case, repeated) so the policy sees all of them. */
export function readImpersonation(rawHeaders: string[]): Impersonation {
  let first = 0;
  while (first < rawHeaders.length && !IMPERSONATE.test(rawHeaders[first]!)) first += 2;
  if (first >= rawHeaders.length) return NO_IMPERSONATION;
  const imp: Impersonation = { user: null, uid: null, groups: [], extra: {} };
  for (let i = first; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.trim().toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (!name.startsWith('impersonate-')) continue;
    if (name === 'impersonate-user') imp.user = imp.user === null ? value : `${imp.user},${value}`;
    else if (name === 'impersonate-uid') imp.uid = imp.uid === null ? value : `${imp.uid},${value}`;
    else if (name === 'impersonate-group') imp.groups.push(value);
    else {
      const key = name.slice('impersonate-'.length);
      imp.extra[key] = [...(imp.extra[key] ?? []), value];
    }
  }
  return imp;
}

export interface RawRequest {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /**
   * Whether the server is switching protocols for this request (Node's IncomingMessage.upgrade:
   * both `Connection: upgrade` and an `Upgrade` header). A `Connection: upgrade` alone is a plain
   * request. Without the flag (tests, kubegate's own requests) the headers are read.
   */
  upgrade?: boolean;
}

/**
 * Turns a raw HTTP request into a KubeRequest, the way the API server's
 * RequestInfoFactory does, refusing what it cannot describe unambiguously.
 */
export function parseRequest(req: RawRequest): KubeRequest {
  const method = (req.method ?? 'GET').toUpperCase();
  if (!KNOWN_METHODS.has(method))
    throw new StatusError(405, 'MethodNotAllowed', `method ${method} is not allowed`);
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  if (rawQuery.includes('#') || rawPath.includes('#')) throw badRequest('fragment in request URL');

  const segments = splitPath(rawPath);
  const query = parseQuery(rawQuery);
  const dryRunValues = query.dryRun;
  if (dryRunValues && !(dryRunValues.length === 1 && dryRunValues[0] === 'All')) {
    throw badRequest('dryRun must be exactly "All" when present');
  }
  const watchValues = query.watch;
  let watchParam = false;
  if (watchValues) {
    if (watchValues.length !== 1 || !['true', '1', 'false', '0'].includes(watchValues[0]!)) {
      throw badRequest('watch must be true or false');
    }
    watchParam = watchValues[0] === 'true' || watchValues[0] === '1';
  }

  const contentType = share(
    String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase(),
  );
  const upgrade =
    req.upgrade ??
    String(req.headers.connection ?? '')
      .toLowerCase()
      .split(',')
      .some((t) => t.trim() === 'upgrade');

  const path = `/${segments.map(encodeSegment).join('/')}`;
  const kr: KubeRequest = {
    method,
    verb: VERB_OF[method] ?? method.toLowerCase(),
    resourceRequest: false,
    group: '',
    version: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
    // the client's own path when it is already canonical (one string kept, not two)
    path: path === rawPath ? rawPath : path,
    search: canonicalQuery(query),
    query,
    dryRun: !!dryRunValues,
    contentType,
    impersonate: readImpersonation(req.rawHeaders),
    upgrade,
    mutating: !READ_METHODS.has(method),
  };

  describeResource(kr, segments, watchParam);
  refuseUpgradedChange(kr);
  return kr;
}

/** Fills group/version/resource/… from the path segments, as RequestInfoFactory does. */
function describeResource(kr: KubeRequest, segments: string[], watchParam: boolean): void {
  const method = kr.method;
  const [prefix, ...rest] = segments;
  let parts = rest;
  if (prefix === 'api') {
    if (parts.length < 1) return; // /api discovery
    kr.version = checkWord('version', parts[0]!);
    parts = parts.slice(1);
  } else if (prefix === 'apis') {
    if (parts.length < 2) {
      if (parts[0]) kr.group = checkWord('API group', parts[0]);
      return; // /apis, /apis/{group} discovery
    }
    kr.group = checkWord('API group', parts[0]!);
    kr.version = checkWord('version', parts[1]!);
    parts = parts.slice(2);
  } else {
    return; // non-resource URL: /version, /healthz, /openapi/v2, ...
  }
  if (parts.length === 0) return; // /api/v1, /apis/{group}/{version} discovery

  kr.resourceRequest = true;
  let legacyWatch = false;
  if (parts[0] === 'watch') {
    legacyWatch = true;
    parts = parts.slice(1);
  } else if (parts[0] === 'proxy') {
    throw badRequest('the legacy /proxy/ path form is not supported; use the proxy subresource');
  }
  if (parts[0] === 'namespaces' && parts.length > 1) {
    // namespaces/{ns}/{resource}/... is a namespaced resource; namespaces/{name}[/status] is the Namespace itself
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) {
      kr.namespace = share(checkName('namespace', parts[1]!));
      parts = parts.slice(2);
    }
  }
  if (parts.length === 0) throw badRequest('missing resource in path');
  kr.resource = checkWord('resource', parts[0]!);
  if (parts.length >= 2) kr.name = checkName('name', parts[1]!);
  if (parts.length >= 3) kr.subresource = checkWord('subresource', parts[2]!);
  if (parts.length > 3 && kr.subresource !== 'proxy') {
    throw badRequest(`unexpected path after subresource "${kr.subresource}"`);
  }

  if (CONNECT_SUBRESOURCES.has(kr.subresource)) {
    kr.verb = 'connect';
    kr.mutating = true; // a stream into a workload or node can change anything
  } else {
    kr.verb = resourceVerb(method, kr.name !== '', legacyWatch || watchParam);
  }
}

/**
 * An upgrade carries its payload as an opaque stream the policy never sees, so only
 * the streaming subresources (and reads, e.g. a WebSocket watch) may upgrade.
 */
function refuseUpgradedChange(kr: KubeRequest): void {
  if (kr.upgrade && kr.mutating && kr.verb !== 'connect') {
    throw badRequest(
      `a ${kr.method} that is not exec/attach/port-forward/proxy cannot upgrade the connection`,
    );
  }
}

function resourceVerb(method: string, named: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** A short human form, e.g. "patch apps/v1 deployments/scale default/api". */
export function describeRequest(kr: KubeRequest): string {
  if (!kr.resourceRequest) return `${kr.verb} ${kr.path}`;
  const gv = kr.group ? `${kr.group}/${kr.version}` : kr.version;
  const res = kr.subresource ? `${kr.resource}/${kr.subresource}` : kr.resource;
  const target = [kr.namespace, kr.name].filter(Boolean).join('/');
  return `${kr.verb} ${gv} ${res}${target ? ` ${target}` : ''}`;
}
