import type { IncomingMessage } from 'node:http';
import { type AuthenticateDeps, authenticate } from '../chain/authenticate.js';
import { type Caller, newContext } from '../chain/context.js';
import { type Cluster, type Clusters, requestCluster } from '../clusters.js';
import { ANONYMOUS } from '../identify.js';
import { parseRequest } from '../kube/request.js';
import { StatusError } from '../kube/status.js';

/** A requester as one cluster knows them: their requests and plans are theirs on that cluster. */
export type Requester = Caller & {
  cluster: Cluster;
  /** kubegate fronts this cluster only: records from before clusters existed (none named) are its. */
  soleCluster?: boolean;
  /** Set when the credentials are kubegate's own impersonating this user (a rollback plan). */
  actingAs?: { username: string; groups: string[] };
};

/** Who a requester is, from their own kube credentials (token or client certificate). */
export type IdentifyRequester = (req: IncomingMessage) => Promise<Requester>;

/** Whether a request or plan (made on `cluster`) is this requester's own, on the cluster they came through. */
export function owns(r: Requester, requester: string, cluster: string | undefined): boolean {
  const on = cluster ?? (r.soleCluster ? r.cluster.name : undefined);
  return requester === r.user.username && on === r.cluster.name;
}

/**
 * The requester's side of the API (their own requests and plans) authenticates exactly as a
 * Kubernetes request does: the upstream says who the credentials belong to. Impersonation is
 * refused here: a requester acts as themselves.
 */
export function requesterIdentity(d: AuthenticateDeps, clusters: Clusters): IdentifyRequester {
  return async (req) => {
    // the cluster named by /clusters/NAME/kubegate/…: its API server says who the credentials are
    const cluster = requestCluster(req);
    if (!cluster) throw clusters.noneNamed();
    if (Object.keys(req.headers).some((h) => h.startsWith('impersonate-')))
      throw new StatusError(400, 'BadRequest', 'kubegate requests and plans take no Impersonate-* headers');
    const kr = parseRequest({ method: 'GET', url: '/version', headers: req.headers, rawHeaders: [] });
    const ctx = newContext({
      origin: 'client',
      cluster,
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
    return { ...caller, cluster, soleCluster: !clusters.several };
  };
}
