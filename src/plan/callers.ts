import type { Requester } from '../api/requester.js';
import type { Clusters } from '../clusters.js';
import { actAs } from '../kube/act-as.js';
import { forbidden } from '../kube/status.js';

/**
 * A plan's requester on the cluster one of its steps is for. On the cluster the plan came through
 * they are who that cluster said; on another, that cluster must say the same credentials are the
 * same person (a token valid on one cluster is no one on another). kubegate acting as the
 * requester (a rollback plan) uses each cluster's own credentials.
 */
export async function requesterOn(clusters: Clusters, r: Requester, name: string): Promise<Requester> {
  if (name === r.cluster.name) return r;
  const cluster = clusters.of(name);
  if (r.actingAs) {
    const own = cluster.upstream.ownAuthorization();
    if (!own) throw forbidden(`kubegate has no credentials of its own on cluster ${name}`);
    return { ...r, cluster, credentials: actAs(own, r.actingAs.username, r.actingAs.groups) };
  }
  if (typeof r.credentials.authorization !== 'string' || r.credentials['impersonate-user'])
    throw forbidden(
      `a step on cluster ${name} needs a token that cluster accepts too: a client certificate is verified for one cluster only`,
    );
  const user = await cluster.identifier.identify({ authorization: r.credentials.authorization });
  if (user.username !== r.user.username)
    throw forbidden(
      `on cluster ${name} your credentials are ${JSON.stringify(user.username)}, not ${JSON.stringify(r.user.username)}: each step runs as the same requester`,
    );
  return { user, credentials: { authorization: r.credentials.authorization }, cluster };
}
