import type { IncomingMessage } from 'node:http';
import { type AuthenticateDeps, authenticate } from '../chain/authenticate.js';
import { type Caller, newContext } from '../chain/context.js';
import { ANONYMOUS } from '../identify.js';
import { parseRequest } from '../kube/request.js';
import { StatusError } from '../kube/status.js';

/** Who a requester is, from their own kube credentials (token or client certificate). */
export type IdentifyRequester = (req: IncomingMessage) => Promise<Caller>;

/**
 * The requester's side of the API (their own requests and plans) authenticates exactly as a
 * Kubernetes request does: the upstream says who the credentials belong to. Impersonation is
 * refused here: a requester acts as themselves.
 */
export function requesterIdentity(d: AuthenticateDeps): IdentifyRequester {
  return async (req) => {
    if (Object.keys(req.headers).some((h) => h.startsWith('impersonate-')))
      throw new StatusError(400, 'BadRequest', 'kubegate requests and plans take no Impersonate-* headers');
    const kr = parseRequest({ method: 'GET', url: '/version', headers: req.headers, rawHeaders: [] });
    const ctx = newContext({
      origin: 'client',
      kr,
      headers: req.headers,
      req,
      signal: new AbortController().signal,
      holdMs: 0,
    });
    const { caller } = await authenticate(ctx, d);
    if (caller.user.username === ANONYMOUS.username)
      throw new StatusError(
        401,
        'Unauthorized',
        'send your kube credentials (the ones your kubeconfig uses for kubegate)',
      );
    return caller;
  };
}
