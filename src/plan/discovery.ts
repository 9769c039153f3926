import { kubeCall } from '../kube/client.js';
import type { Upstream } from '../upstream.js';
import { type Discover, type ResourceInfo, StepError } from './steps.js';

interface ApiResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

const GROUP_VERSION = /^(?:([a-z0-9.-]+)\/)?(v[0-9a-z]+)$/;

/** A GET of a discovery document: upstream as the caller, or through kubegate as the requester. */
export type DiscoveryGet = (path: string) => Promise<{ status: number; body: unknown }>;

/** Discovery read upstream with the caller's own credentials. */
export function discoverer(upstream: Upstream, credentials: Record<string, string | string[]>): Discover {
  return discoverWith((path) => kubeCall(upstream, { path, headers: credentials }));
}

/**
 * Kind → resource by the apiserver's discovery, read as the caller (what kubectl's REST mapper
 * does). One read per group/version.
 */
export function discoverWith(get: DiscoveryGet): Discover {
  const lists = new Map<string, Promise<ApiResourceList>>();
  const read = (gv: string, path: string) => {
    let p = lists.get(gv);
    if (!p) {
      p = get(path).then((r) => {
        if (r.status === 404) throw new StepError(`the cluster does not serve ${gv}`);
        if (r.status !== 200)
          throw new StepError(`cannot read the API discovery of ${gv} (HTTP ${r.status})`);
        return r.body as ApiResourceList;
      });
      lists.set(gv, p);
    }
    return p;
  };
  return async (apiVersion, kind): Promise<ResourceInfo> => {
    const m = GROUP_VERSION.exec(apiVersion);
    if (!m) throw new StepError(`apiVersion "${apiVersion}" is not group/version`);
    const [, group = '', version = ''] = m;
    const list = await read(apiVersion, group ? `/apis/${group}/${version}` : `/api/${version}`);
    const r = list.resources?.find((x) => x.kind === kind && !x.name.includes('/'));
    if (!r) throw new StepError(`${apiVersion} has no kind ${kind}`);
    return { group, version, resource: r.name, namespaced: r.namespaced };
  };
}
