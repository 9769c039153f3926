import type { IncomingHttpHeaders } from 'node:http';
import { StatusError } from './status.js';

/** A WebSocket subprotocol the apiserver reads as `Authorization: Bearer <base64url-decoded rest>`. */
const BEARER_PROTOCOL = 'base64url.bearer.authorization.k8s.io.';
/** Anything that looks like the apiserver's credential subprotocol, wherever it is in an entry. */
const CREDENTIAL_LIKE = /bearer\.authorization\.k8s\.io/i;
/** A subprotocol name is an RFC 7230 token (RFC 6455 section 4.1). */
const TOKEN_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** What a bearer token may contain to travel in an Authorization header. */
const TOKEN = /^[\x21-\x7e]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

const refuse = (why: string) => new StatusError(400, 'BadRequest', `Sec-WebSocket-Protocol: ${why}`);

/**
 * Moves a bearer token sent as a WebSocket subprotocol into Authorization, and takes it out of
 * Sec-WebSocket-Protocol. The apiserver accepts a token there (browsers cannot set headers on a
 * WebSocket); left in place, kubegate would decide on an anonymous caller while the apiserver
 * acted as the token's owner. Moved, it is the one credential kubegate reviews and forwards.
 * Every entry must be a plain token name: the apiserver trims Unicode spaces that JavaScript's
 * trim() does not see in latin1 header text, so a token behind one would pass kubegate unseen.
 * Refused (400) too where the apiserver refuses it or the caller would be ambiguous: two tokens, a
 * token beside an Authorization header, an undecodable one, or no other subprotocol to answer with.
 * Changes `headers` in place, so a held request run again reads the same credential.
 */
export function moveBearerSubprotocol(headers: IncomingHttpHeaders): void {
  const raw = headers['sec-websocket-protocol'];
  if (raw === undefined) return;
  const rest: string[] = [];
  let token: string | undefined;
  for (const entry of (Array.isArray(raw) ? raw.join(',') : raw).split(',')) {
    const protocol = entry.replace(/^[ \t]+|[ \t]+$/g, '');
    if (!protocol) continue;
    if (!TOKEN_NAME.test(protocol)) throw refuse('a subprotocol name has characters a token may not have');
    if (!protocol.startsWith(BEARER_PROTOCOL)) {
      if (CREDENTIAL_LIKE.test(protocol)) throw refuse(`a bearer token is sent as ${BEARER_PROTOCOL}…`);
      rest.push(protocol);
      continue;
    }
    if (token !== undefined) throw refuse('more than one bearer token');
    token = decodeToken(protocol.slice(BEARER_PROTOCOL.length));
  }
  if (token === undefined) return;
  if (headers.authorization !== undefined)
    throw refuse('a bearer token and an Authorization header: send one credential');
  if (!rest.length) throw refuse('a bearer token needs another subprotocol beside it');
  headers['sec-websocket-protocol'] = rest.join(', ');
  headers.authorization = `Bearer ${token}`;
}

/** base64url without padding, of UTF-8 that can travel in a header (as the apiserver decodes it). */
function decodeToken(encoded: string): string {
  if (!BASE64URL.test(encoded) || encoded.length % 4 === 1) throw refuse('the bearer token is not base64url');
  let token: string;
  try {
    token = utf8.decode(Buffer.from(encoded, 'base64url'));
  } catch {
    throw refuse('the bearer token is not UTF-8');
  }
  if (!TOKEN.test(token)) throw refuse('the bearer token has spaces or control characters');
  return token;
}
