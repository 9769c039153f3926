// One shared fake for unit tests: a Cluster (src/clusters.ts) whose upstream is never dialled.
import https from 'node:https';
import { Pool } from 'undici';
import type { Cluster } from '../../src/clusters.js';
import { Identifier } from '../../src/identify.js';
import type { Upstream } from '../../src/upstream.js';

/** An upstream nobody connects to; `own` is kubegate's own Authorization (undefined: none). */
export function fakeUpstream(own: string | undefined = 'Bearer kubegate'): Upstream {
  return {
    url: new URL('https://upstream.invalid:6443'),
    agent: new https.Agent(),
    pool: new Pool('https://upstream.invalid:6443'),
    ownAuthorization: () => own,
  };
}

/**
 * A cluster as Clusters.fromConfig would build it, with a fake upstream. A single-cluster
 * kubegate's one cluster is named after `cluster_name` (default `kubegate`).
 */
export function testCluster(name = 'kubegate', over: Partial<Cluster> = {}): Cluster {
  const upstream = over.upstream ?? fakeUpstream();
  return {
    name,
    labels: {},
    upstream,
    identifier: new Identifier(upstream, 0),
    safety: { production_namespaces: ['production'], block_production: false },
    holdSeconds: 0,
    requireDryRun: false,
    ...over,
  };
}
