import { type KubeRequest, parseRequest, type RawRequest, readImpersonation } from './request.js';

/** At most this many distinct requests are remembered (then the memory starts over). */
const MAX_ENTRIES = 4096;
/** Longer URLs are parsed every time: the memory stays small (≤ 4096 × 1 KiB of keys). */
const MAX_URL = 1024;

let remembered = new Map<string, KubeRequest>();

/**
 * parseRequest for the requests clients repeat: the same get, list or watch URL again and again,
 * and an agent's same kind of change (a SelfSubjectAccessReview, a dry run, a patch of one
 * object). A request's description is a pure function of its method, URL, Content-Type and
 * whether it upgrades, so a repeated one gets the description parsed the first time, with the
 * Impersonate-* headers read from this request, as its own copy (stages may set fields on it, as
 * the body stage does on a change; the shared query is frozen, and replaced, never changed).
 * Only successful parses are remembered: a refused URL is parsed (and refused) every time.
 */
export function parseRequestRemembered(req: RawRequest): KubeRequest {
  const url = req.url;
  // the upgrade flag parseRequest would compute is false for certain only in these two cases
  const plain = req.upgrade === false || (req.upgrade === undefined && req.headers.connection === undefined);
  if (!plain || url === undefined || url.length > MAX_URL) return parseRequest(req);
  const type = req.headers['content-type'];
  // methods, header values and URLs carry no newline, so the key is unambiguous
  const key = `${req.method ?? ''}\n${type ?? ''}\n${url}`;
  const known = remembered.get(key);
  if (known) return { ...known, impersonate: readImpersonation(req.rawHeaders) };
  const kr = parseRequest(req);
  for (const values of Object.values(kr.query)) Object.freeze(values);
  Object.freeze(kr.query);
  if (remembered.size >= MAX_ENTRIES) remembered = new Map();
  remembered.set(key, { ...kr });
  return kr;
}
