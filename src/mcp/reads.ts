import type { RequesterClient } from '../plan/client.js';
import { KubegateCallError } from '../plan/client.js';
import { discoverWith } from '../plan/discovery.js';
import type { Discover } from '../plan/steps.js';

type Obj = Record<string, unknown>;
interface Ref {
  apiVersion: string;
  kind: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

const enc = encodeURIComponent;

/** One line about an object: name, and the status fields people look at first. */
function summary(o: Obj): string {
  const md = o.metadata as { name: string; namespace?: string };
  const st = (o.status ?? {}) as { phase?: string; readyReplicas?: number; replicas?: number };
  const spec = (o.spec ?? {}) as { replicas?: number };
  const parts = [md.namespace ? `${md.namespace}/${md.name}` : md.name];
  if (st.phase) parts.push(st.phase);
  if (spec.replicas !== undefined) parts.push(`${st.readyReplicas ?? 0}/${spec.replicas} ready`);
  return parts.join('  ');
}

/** The MCP server's reads: the Kubernetes API through kubegate, as the agent (LOW reads pass through). */
export class KubeReads {
  private readonly discover: Discover;

  constructor(private readonly client: RequesterClient) {
    this.discover = discoverWith((path) => client.call('GET', path));
  }

  private async read<T>(path: string): Promise<T> {
    const r = await this.client.call<T>('GET', path);
    if (r.status !== 200) {
      const msg = (r.body as { message?: unknown } | null)?.message;
      throw new KubegateCallError(typeof msg === 'string' ? msg : `HTTP ${r.status}`, r.status);
    }
    return r.body;
  }

  private async path(ref: Ref): Promise<string> {
    const info = await this.discover(ref.apiVersion, ref.kind);
    const gv = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const ns = info.namespaced && ref.namespace ? `/namespaces/${enc(ref.namespace)}` : '';
    return `${gv}${ns}/${info.resource}${ref.name ? `/${enc(ref.name)}` : ''}`;
  }

  async get(ref: Ref & { name: string }): Promise<Obj> {
    const o = await this.read<Obj>(await this.path(ref));
    const md = o.metadata as Obj | undefined;
    if (md) delete md.managedFields; // noise for a model, and large
    return o;
  }

  async list(ref: Ref & { labelSelector?: string | undefined }): Promise<string[]> {
    const q = ref.labelSelector ? `?labelSelector=${enc(ref.labelSelector)}` : '';
    const l = await this.read<{ items?: Obj[] }>(`${await this.path({ ...ref, name: undefined })}${q}`);
    return (l.items ?? []).map(summary);
  }

  async events(namespace: string, name?: string): Promise<string[]> {
    const q = name ? `?fieldSelector=${enc(`involvedObject.name=${name}`)}` : '';
    const l = await this.read<{ items?: Obj[] }>(`/api/v1/namespaces/${enc(namespace)}/events${q}`);
    return (l.items ?? []).map((e) => {
      const io = e.involvedObject as { kind?: string; name?: string };
      return `${String(e.lastTimestamp ?? e.eventTime ?? '')}  ${String(e.type)}  ${String(e.reason)}  ${io.kind}/${io.name}: ${String(e.message)}`;
    });
  }

  async describe(ref: Ref & { name: string }): Promise<string> {
    const o = await this.get(ref);
    const ev = ref.namespace ? await this.events(ref.namespace, ref.name) : [];
    return `${JSON.stringify(o, null, 2)}\n\nEvents:\n${ev.join('\n') || '  none'}`;
  }

  async logs(a: {
    namespace: string;
    pod: string;
    container?: string | undefined;
    tailLines?: number | undefined;
  }): Promise<string> {
    const q = new URLSearchParams({ tailLines: String(a.tailLines ?? 200) });
    if (a.container) q.set('container', a.container);
    const r = await this.client.call<unknown>(
      'GET',
      `/api/v1/namespaces/${enc(a.namespace)}/pods/${enc(a.pod)}/log?${q}`,
    );
    if (r.status !== 200) {
      const msg = (r.body as { message?: unknown } | null)?.message;
      throw new KubegateCallError(typeof msg === 'string' ? msg : `HTTP ${r.status}`, r.status);
    }
    return typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  }
}
