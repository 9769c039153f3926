// Several clusters behind one kubegate: the `clusters:` config, and how a request URL names its

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { owns, type Requester } from '../../src/api/requester.js';
import { Clusters } from '../../src/clusters.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { StatusError } from '../../src/kube/status.js';
import { selfSigned } from './self-signed.js';

const minimal = {
  tls: { cert: 'serving.crt', key: 'serving.key' },
  policy: { bundle: 'policy' },
  approvers: { jwks: 'approvers.jwks.json' },
  audit: { path: 'audit/actions-log.jsonl' },
};

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kg-clusters-'));
  // loadUpstream reads each cluster's CA file: a real self-signed PEM
  selfSigned(dir, 'ca', 'kubegate-test-ca');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cluster = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  upstream: { url: `https://${name}.example:6443`, ca: 'ca.crt' },
  ...extra,
});

/** The config's error message (it must throw a ConfigError). */
function configError(raw: unknown): string {
  try {
    parseConfig(raw, dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('config accepted');
}

describe('config: clusters', () => {
  it('parses a list of clusters with labels, overrides and relative paths resolved against the config dir', () => {
    const c = parseConfig(
      {
        ...minimal,
        clusters: [
          cluster('prod', {
            labels: { env: 'production' },
            upstream: {
              url: 'https://prod.example:6443',
              ca: 'certs/prod-ca.crt',
              token_file: 'tokens/prod',
            },
            safety: { production_namespaces: ['payments'] },
            execution: { hold_seconds: 5 },
          }),
          { name: 'staging', upstream: { kubeconfig: 'kube/staging.yaml', context: 'stg' } },
        ],
      },
      dir,
    );
    expect(c.clusters).toHaveLength(2);
    const [prod, staging] = c.clusters!;
    expect(prod).toMatchObject({
      name: 'prod',
      labels: { env: 'production' },
      upstream: {
        url: 'https://prod.example:6443',
        ca: path.join(dir, 'certs/prod-ca.crt'),
        token_file: path.join(dir, 'tokens/prod'),
      },
      safety: { production_namespaces: ['payments'] },
      execution: { hold_seconds: 5 },
    });
    expect(staging).toMatchObject({
      name: 'staging',
      labels: {},
      upstream: { kubeconfig: path.join(dir, 'kube/staging.yaml'), context: 'stg' },
    });
    // an absolute path stays as it is
    const abs = parseConfig(
      {
        ...minimal,
        clusters: [cluster('a', { upstream: { url: 'https://a.example', ca: '/etc/a/ca.crt' } })],
      },
      dir,
    );
    expect(abs.clusters?.[0]?.upstream.ca).toBe('/etc/a/ca.crt');
  });

  it('refuses upstream and clusters together', () => {
    expect(
      configError({ ...minimal, upstream: { url: 'https://one.example:6443' }, clusters: [cluster('prod')] }),
    ).toMatch(/either upstream \(one cluster\) or clusters, not both/);
  });

  it('refuses two clusters with one name', () => {
    expect(
      configError({ ...minimal, clusters: [cluster('prod'), cluster('staging'), cluster('prod')] }),
    ).toMatch(/clusters: the name "prod" is used twice/);
  });

  it('refuses a name that is not a DNS label (it is a URL path segment and an approval audience)', () => {
    for (const bad of ['Prod', 'a/b', '-prod', 'prod-', 'pr od', 'prod.eu', '', 'a'.repeat(64)])
      expect(configError({ ...minimal, clusters: [cluster('ok'), cluster(bad)] }), bad).toMatch(
        /clusters\.1\.name: .*DNS label/,
      );
    for (const good of ['prod', 'p', 'eu-west-1', '0', 'a'.repeat(63)])
      expect(parseConfig({ ...minimal, clusters: [cluster(good)] }, dir).clusters?.[0]?.name).toBe(good);
  });

  it('refuses an empty list and a url with a kubeconfig in one cluster', () => {
    expect(configError({ ...minimal, clusters: [] })).toMatch(/clusters/);
    expect(
      configError({
        ...minimal,
        clusters: [cluster('ok'), { name: 'both', upstream: { url: 'https://x.example', kubeconfig: 'k' } }],
      }),
    ).toMatch(/clusters\.1\.upstream: give either url \(\+ ca\) or kubeconfig, not both/);
  });

  it('state.cluster must name one of the clusters (the one cluster is named cluster_name)', () => {
    const state = (name: string) => ({ type: 'kubernetes', cluster: name });
    expect(
      configError({ ...minimal, clusters: [cluster('prod'), cluster('staging')], state: state('dev') }),
    ).toMatch(/state\.cluster: no cluster is named "dev" \(clusters: prod, staging\)/);
    expect(
      parseConfig(
        { ...minimal, clusters: [cluster('prod'), cluster('staging')], state: state('staging') },
        dir,
      ).state,
    ).toMatchObject({ type: 'kubernetes', cluster: 'staging' });
    // without clusters, the only cluster is cluster_name
    expect(configError({ ...minimal, state: state('prod') })).toMatch(/no cluster is named "prod"/);
    expect(parseConfig({ ...minimal, cluster_name: 'prod', state: state('prod') }, dir).state).toMatchObject({
      cluster: 'prod',
    });
  });
});

describe('Clusters: which cluster a request is for', () => {
  const opened: Clusters[] = [];
  afterEach(() => {
    for (const c of opened.splice(0)) c.close();
  });

  function clustersOf(raw: Record<string, unknown>): Clusters {
    const c = Clusters.fromConfig(parseConfig({ ...minimal, ...raw }, dir));
    opened.push(c);
    return c;
  }

  const several = () =>
    clustersOf({
      safety: { production_namespaces: ['production'], block_production: true },
      execution: { hold_seconds: 30, require_dry_run: true },
      clusters: [
        cluster('prod', {
          labels: { env: 'production' },
          safety: { production_namespaces: ['payments', 'ledger'] },
          execution: { hold_seconds: 5 },
        }),
        cluster('staging', { execution: { require_dry_run: false }, safety: { block_production: false } }),
        cluster('dev', { safety: { production_namespaces: [] } }),
      ],
      state: { type: 'kubernetes', cluster: 'staging' },
    });

  const routed = (cs: Clusters, url: string) => {
    const r = cs.route(url);
    return { cluster: r.cluster?.name, url: r.url };
  };

  const notFound = (cs: Clusters, url: string): StatusError => {
    try {
      cs.route(url);
    } catch (err) {
      expect(err).toBeInstanceOf(StatusError);
      expect((err as StatusError).code).toBe(404);
      return err as StatusError;
    }
    throw new Error(`${url} was routed`);
  };

  it('strips /clusters/NAME and keeps the rest of the URL, query included', () => {
    const cs = several();
    expect(routed(cs, '/clusters/prod/api/v1/pods?x=1')).toEqual({
      cluster: 'prod',
      url: '/api/v1/pods?x=1',
    });
    expect(routed(cs, '/clusters/staging/apis/apps/v1/namespaces/a/deployments/b')).toEqual({
      cluster: 'staging',
      url: '/apis/apps/v1/namespaces/a/deployments/b',
    });
    expect(routed(cs, '/clusters/prod')).toEqual({ cluster: 'prod', url: '/' });
    expect(routed(cs, '/clusters/prod/')).toEqual({ cluster: 'prod', url: '/' });
    expect(routed(cs, '/clusters/prod?timeout=32s')).toEqual({ cluster: 'prod', url: '/?timeout=32s' });
    expect(routed(cs, '/clusters/dev/kubegate/readyz')).toEqual({ cluster: 'dev', url: '/kubegate/readyz' });
  });

  it('a name it does not front is 404, never another cluster (no decoding, no case folding)', () => {
    const cs = several();
    expect(notFound(cs, '/clusters/nope/api/v1/pods').message).toMatch(
      /no cluster named "nope" \(clusters: prod, staging, dev\)/,
    );
    notFound(cs, '/clusters/pr%6fd/api/v1/pods');
    notFound(cs, '/clusters/Prod/api');
    notFound(cs, '/clusters/prod%2Fapi');
    notFound(cs, '/clusters/');
    notFound(cs, '/clusters//api');
  });

  it('an unprefixed URL is the only cluster with one, no cluster with several', () => {
    const cs = several();
    expect(cs.several).toBe(true);
    expect(routed(cs, '/api/v1/pods')).toEqual({ cluster: undefined, url: '/api/v1/pods' });
    expect(routed(cs, '/clustersx/prod/api')).toEqual({ cluster: undefined, url: '/clustersx/prod/api' });
    expect(cs.noneNamed()).toMatchObject({ code: 404 });
    expect(cs.noneNamed().message).toMatch(/\/clusters\/NAME\/ \(clusters: prod, staging, dev/);

    const one = clustersOf({
      upstream: { url: 'https://one.example:6443', ca: 'ca.crt' },
      cluster_name: 'solo',
    });
    expect(one.several).toBe(false);
    expect(one.names).toEqual(['solo']);
    expect(routed(one, '/api/v1/pods?watch=1')).toEqual({ cluster: 'solo', url: '/api/v1/pods?watch=1' });
    // its own name works as a prefix too; another does not
    expect(routed(one, '/clusters/solo/api')).toEqual({ cluster: 'solo', url: '/api' });
    notFound(one, '/clusters/kubegate/api');
    // a stored request from before clusters existed is the only cluster's
    expect(one.of(undefined).name).toBe('solo');
    expect(() => cs.of(undefined)).toThrow(StatusError);
  });

  it("each cluster's overrides take effect; what it does not override is the global setting", () => {
    const cs = several();
    const prod = cs.get('prod')!;
    const staging = cs.get('staging')!;
    const dev = cs.get('dev')!;
    expect(prod).toMatchObject({
      labels: { env: 'production' },
      holdSeconds: 5,
      requireDryRun: true,
      safety: { production_namespaces: ['payments', 'ledger'], block_production: true },
    });
    expect(staging).toMatchObject({
      labels: {},
      holdSeconds: 30,
      requireDryRun: false,
      safety: { production_namespaces: ['production'], block_production: false },
    });
    // an empty list is an override too (no production namespaces on dev), not "use the global"
    expect(dev.safety.production_namespaces).toEqual([]);
    expect(dev).toMatchObject({ holdSeconds: 30, requireDryRun: true });
    // each has its own upstream (and CA)
    expect(prod.upstream.url.host).toBe('prod.example:6443');
    expect(staging.upstream.url.host).toBe('staging.example:6443');
    expect(prod.upstream.ca?.toString()).toMatch(/BEGIN CERTIFICATE/);
    expect(prod.upstream.agent).not.toBe(staging.upstream.agent);
    // state.cluster names the home cluster
    expect(cs.home.name).toBe('staging');
    expect(cs.names).toEqual(['prod', 'staging', 'dev']);
  });

  it('the home cluster is the first without state.cluster', () => {
    const cs = clustersOf({ clusters: [cluster('b'), cluster('a')], state: { type: 'kubernetes' } });
    expect(cs.home.name).toBe('b');
  });
});

describe('owns: a requester sees their own requests on the cluster they came through', () => {
  const r = (soleCluster: boolean) =>
    ({ user: { username: 'agent' }, cluster: { name: 'prod' }, soleCluster }) as unknown as Requester;
  it('names the cluster and the requester', () => {
    expect(owns(r(false), 'agent', 'prod')).toBe(true);
    expect(owns(r(false), 'agent', 'staging')).toBe(false);
    expect(owns(r(false), 'carol', 'prod')).toBe(false);
  });
  it("a record from before clusters existed is the only cluster's, and nobody's with several", () => {
    expect(owns(r(true), 'agent', undefined)).toBe(true);
    expect(owns(r(false), 'agent', undefined)).toBe(false);
  });
});
