import { isDeepStrictEqual } from 'node:util';
import { kubeCall } from '../kube/client.js';
import type { Upstream } from '../upstream.js';
import type { ObjectRef, PlanCheck } from '../wire/plan-view.js';
import { discoverer } from './discovery.js';

type Obj = Record<string, unknown>;

export interface CheckResult {
  ok: boolean;
  check: string;
  expected: string;
  observed: string;
}

/** Reads what checks look at, with the requester's own credentials. */
export interface ClusterReader {
  object(ref: ObjectRef): Promise<Obj | null>;
  pods(namespace: string, selector?: string): Promise<Obj[]>;
}

export function clusterReader(
  upstream: Upstream,
  credentials: Record<string, string | string[]>,
): ClusterReader {
  const discover = discoverer(upstream, credentials);
  const get = async <T>(path: string): Promise<T | null> => {
    const r = await kubeCall<T>(upstream, { path, headers: credentials });
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`cannot read ${path} (HTTP ${r.status})`);
    return r.body;
  };
  return {
    async object(ref) {
      const info = await discover(ref.apiVersion, ref.kind);
      const gv = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
      const ns = info.namespaced && ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
      return get<Obj>(`${gv}${ns}/${info.resource}/${encodeURIComponent(ref.name)}`);
    },
    async pods(namespace, selector) {
      const q = selector ? `?labelSelector=${encodeURIComponent(selector)}` : '';
      const list = await get<{ items?: Obj[] }>(
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods${q}`,
      );
      return list?.items ?? [];
    },
  };
}

/** `spec.template.spec.containers[0].image` of an object, or undefined. */
export function fieldOf(obj: unknown, field: string): unknown {
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    const m = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!m) return undefined;
    cur = (cur as Obj | null)?.[m[1]!];
    for (const idx of m[2]!.match(/\d+/g) ?? []) cur = Array.isArray(cur) ? cur[Number(idx)] : undefined;
  }
  return cur;
}

const refText = (r: ObjectRef) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

function availability(obj: Obj | null, replicas: number | undefined): { ok: boolean; observed: string } {
  if (!obj) return { ok: false, observed: 'does not exist' };
  const md = obj.metadata as { generation?: number };
  const st = (obj.status ?? {}) as {
    observedGeneration?: number;
    readyReplicas?: number;
    conditions?: Obj[];
  };
  const available = st.conditions?.find((c) => c.type === 'Available')?.status === 'True';
  const ready = st.readyReplicas ?? 0;
  const want = replicas ?? (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const current = (st.observedGeneration ?? 0) >= (md.generation ?? 0);
  return {
    ok: available && ready >= want && current,
    observed: `Available=${available ? 'True' : 'False'}, ${ready}/${want} ready${current ? '' : ', not yet observed by its controller'}`,
  };
}

function crashLooping(pods: Obj[]): string[] {
  return pods.flatMap((p) => {
    const st = (p.status ?? {}) as {
      containerStatuses?: { name: string; state?: { waiting?: { reason?: string } } }[];
    };
    const name = (p.metadata as { name: string }).name;
    return (st.containerStatuses ?? [])
      .filter((c) => c.state?.waiting?.reason === 'CrashLoopBackOff')
      .map((c) => `${name}/${c.name}`);
  });
}

/** One check, once. */
export async function runCheck(check: PlanCheck, read: ClusterReader): Promise<CheckResult> {
  if ('available' in check) {
    const c = check.available;
    const a = availability(await read.object(c), c.replicas);
    const expected = `Available${c.replicas !== undefined ? ` with ${c.replicas} ready` : ''}`;
    return { ok: a.ok, check: `available ${refText(c)}`, expected, observed: a.observed };
  }
  if ('noCrashLoop' in check) {
    const c = check.noCrashLoop;
    const bad = crashLooping(await read.pods(c.namespace, c.selector));
    const where = `pods in ${c.namespace}${c.selector ? ` (${c.selector})` : ''}`;
    const observed = bad.length ? `CrashLoopBackOff: ${bad.join(', ')}` : 'none in CrashLoopBackOff';
    return { ok: !bad.length, check: `no crash loop in ${where}`, expected: 'no CrashLoopBackOff', observed };
  }
  if ('exists' in check || 'absent' in check) {
    const ref = 'exists' in check ? check.exists : check.absent;
    const there = (await read.object(ref)) !== null;
    const want = 'exists' in check;
    const observed = there ? 'exists' : 'does not exist';
    return {
      ok: there === want,
      check: `${want ? 'exists' : 'absent'} ${refText(ref)}`,
      expected: want ? 'exists' : 'does not exist',
      observed,
    };
  }
  const c = check.equals;
  const obj = await read.object(c);
  const value = obj ? fieldOf(obj, c.field) : undefined;
  return {
    ok: obj !== null && isDeepStrictEqual(value, c.value),
    check: `${refText(c)} ${c.field}`,
    expected: JSON.stringify(c.value),
    observed: obj ? (value === undefined ? 'unset' : JSON.stringify(value)) : 'object does not exist',
  };
}

export async function runChecks(checks: PlanCheck[], read: ClusterReader): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    try {
      out.push(await runCheck(c, read));
    } catch (err) {
      out.push({
        ok: false,
        check: JSON.stringify(c),
        expected: 'readable',
        observed: (err as Error).message,
      });
    }
  }
  return out;
}

/** Re-runs the checks until all pass, the time is up, or `stop()` says so; the last results. */
export async function waitForChecks(
  checks: PlanCheck[],
  read: ClusterReader,
  o: { timeoutMs: number; intervalMs?: number; stop?: () => boolean },
): Promise<CheckResult[]> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const results = await runChecks(checks, read);
    if (results.every((r) => r.ok) || Date.now() >= deadline || o.stop?.()) return results;
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 1000));
  }
}
