import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ClusterConfig, Config, UpstreamConfig } from './config.js';
import { Identifier } from './identify.js';
import { StatusError } from './kube/status.js';
import { closeUpstream, loadUpstream, type Upstream } from './upstream.js';

/**
 * One upstream API server behind kubegate, with everything that is per cluster: its own
 * connection pool and credentials, its own identity reviews (a token valid on one cluster is
 * reviewed by that cluster only), its labels for the policy, and the settings it overrides.
 */
export interface Cluster {
  name: string;
  labels: Record<string, string>;
  upstream: Upstream;
  identifier: Identifier;
  safety: { production_namespaces: string[]; block_production: boolean };
  holdSeconds: number;
  requireDryRun: boolean;
  /** The client CA whose certificates are users of this cluster (none: certificates are refused here). */
  clientCa?: X509Certificate[];
}

/** The path prefix that names a cluster: kubeconfig's `server:` carries it. */
export const CLUSTER_PREFIX = '/clusters/';

function upstreamOf(u: UpstreamConfig): Upstream {
  return loadUpstream({
    ...(u.kubeconfig ? { kubeconfig: u.kubeconfig } : {}),
    ...(u.context ? { context: u.context } : {}),
    ...(u.url ? { url: u.url } : {}),
    ...(u.ca ? { caFile: u.ca } : {}),
    ...(u.token_file ? { tokenFile: u.token_file } : {}),
  });
}

/** The certificates of a PEM bundle. */
export function pemCertificates(file: string): X509Certificate[] {
  const pem = readFileSync(file, 'utf8');
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

/** The client CA files of every cluster (the TLS handshake asks for a certificate of any of them). */
export function clientCaFiles(config: Config): string[] {
  if (!config.clusters) return config.tls.client_ca ? [config.tls.client_ca] : [];
  return config.clusters.flatMap((c) => (c.client_ca ? [c.client_ca] : []));
}

function clusterOf(
  config: Config,
  c: ClusterConfig,
  upstream = upstreamOf(c.upstream),
  clientCa = c.client_ca,
): Cluster {
  return {
    ...(clientCa ? { clientCa: pemCertificates(clientCa) } : {}),
    name: c.name,
    labels: c.labels,
    upstream,
    identifier: new Identifier(upstream, config.limits.identity_cache_seconds * 1000),
    safety: {
      production_namespaces: c.safety?.production_namespaces ?? config.safety.production_namespaces,
      block_production: c.safety?.block_production ?? config.safety.block_production,
    },
    holdSeconds: c.execution?.hold_seconds ?? config.execution.hold_seconds,
    requireDryRun: c.execution?.require_dry_run ?? config.execution.require_dry_run,
  };
}

/** Every cluster kubegate fronts: `clusters`, or the one `upstream` named `cluster_name`. */
export class Clusters {
  private readonly byName: Map<string, Cluster>;

  private constructor(
    readonly all: Cluster[],
    /** Several clusters: every Kubernetes request names its cluster by the path prefix. */
    readonly several: boolean,
    private readonly homeName: string,
  ) {
    this.byName = new Map(all.map((c) => [c.name, c]));
  }

  static fromConfig(config: Config): Clusters {
    // one cluster: `upstream`, named cluster_name, with tls.client_ca as its client CA
    const ca = config.tls.client_ca;
    const list = config.clusters ?? [
      { name: config.cluster_name, labels: {}, upstream: config.upstream, ...(ca ? { client_ca: ca } : {}) },
    ];
    const all = list.map((c) => clusterOf(config, c));
    const home = config.state?.type === 'kubernetes' ? config.state.cluster : undefined;
    return new Clusters(all, !!config.clusters, home ?? all[0]!.name);
  }

  /** For tests and tools that build one cluster from an upstream they already have. */
  static single(config: Config, upstream: Upstream): Clusters {
    const c = clusterOf(
      config,
      { name: config.cluster_name, labels: {}, upstream: {} },
      upstream,
      config.tls.client_ca,
    );
    return new Clusters([c], false, c.name);
  }

  get(name: string): Cluster | undefined {
    return this.byName.get(name);
  }

  /** A stored request's cluster (records from before clusters existed are the only cluster's). */
  of(name: string | undefined): Cluster {
    const c = name === undefined && !this.several ? this.all[0] : this.byName.get(name ?? '');
    if (!c) throw new StatusError(404, 'NotFound', `kubegate fronts no cluster named "${name}"`);
    return c;
  }

  /** The cluster that keeps kubegate's state with `state.type: kubernetes`. */
  get home(): Cluster {
    return this.of(this.homeName);
  }

  get names(): string[] {
    return this.all.map((c) => c.name);
  }

  /**
   * The cluster a request URL names (`/clusters/NAME/rest`) and the URL without the prefix. An
   * unprefixed Kubernetes URL is the only cluster's; with several it names none (undefined).
   */
  route(url: string): { cluster: Cluster | undefined; url: string } {
    if (!url.startsWith(CLUSTER_PREFIX)) return { cluster: this.several ? undefined : this.all[0], url };
    const rest = url.slice(CLUSTER_PREFIX.length);
    const end = rest.search(/[/?]/);
    const name = end < 0 ? rest : rest.slice(0, end);
    const cluster = this.byName.get(name);
    if (!cluster)
      throw new StatusError(
        404,
        'NotFound',
        `kubegate fronts no cluster named ${JSON.stringify(name)} (clusters: ${this.names.join(', ')})`,
      );
    const tail = end < 0 ? '' : rest.slice(end);
    return { cluster, url: tail.startsWith('/') ? tail : `/${tail}` };
  }

  /** The error for a Kubernetes request that names no cluster when there are several. */
  noneNamed(): StatusError {
    return new StatusError(
      404,
      'NotFound',
      `kubegate fronts several clusters: send requests to ${CLUSTER_PREFIX}NAME/ (clusters: ${this.names.join(', ')}; \`kubegate kubeconfig --cluster NAME\` writes a context)`,
    );
  }

  close(): void {
    for (const c of this.all) closeUpstream(c.upstream);
  }
}

const routed = new WeakMap<object, Cluster>();

/** Remembers which cluster a client request was routed to (the API reads it back). */
export function setRequestCluster(req: object, cluster: Cluster): void {
  routed.set(req, cluster);
}

export function requestCluster(req: object): Cluster | undefined {
  return routed.get(req);
}
