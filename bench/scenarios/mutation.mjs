// LOW mutations: SelfSubjectAccessReview creates (policy-decided LOW, auto-approved, audited with
// fsync before forwarding) direct vs through kubegate; and group commit vs one fsync per record.
import { mustCall } from '../lib/http.mjs';
import { interleave, runLoad } from '../lib/load.mjs';
import { fdatasyncLoop } from './fdatasync.mjs';

export const SSAR_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
export const SSAR_BODY = JSON.stringify({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SelfSubjectAccessReview',
  spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'bench-get' } },
});

/** Checks that the endpoint answers the SSAR and (for a kubegate) classified it LOW. */
export async function checkLowMutation(
  /** @type {import('../lib/http.mjs').Endpoint} */ ep,
  expectGate = true,
) {
  const r = await mustCall(ep, { method: 'POST', path: SSAR_PATH, body: SSAR_BODY }, [201]);
  if (expectGate && !/LOW risk/.test(String(r.headers.warning ?? '')))
    throw new Error(`${ep.name}: SelfSubjectAccessReview not classified LOW (warning: ${r.headers.warning})`);
}

const load = (
  /** @type {import('../lib/http.mjs').Endpoint} */ ep,
  /** @type {number} */ connections,
  /** @type {number} */ seconds,
  /** @type {Record<string, number> | undefined} */ cpu,
) => runLoad(ep, { method: 'POST', path: SSAR_PATH, body: SSAR_BODY, connections, seconds, cpu });

/**
 * @param {{ direct: import('../lib/http.mjs').Endpoint, kubegate: import('../lib/http.mjs').Endpoint,
 *   bare: import('../lib/http.mjs').Endpoint }} ep  bare: bench/bare-proxy.mjs (a Node proxy's CPU floor)
 * @param {{ rounds: number, seconds: number, warmupSeconds: number, log: (s: string) => void,
 *   cpu?: Record<string, number>, auditDir: string }} o  auditDir: the audit log's directory
 */
export async function benchLowMutation(ep, o) {
  await checkLowMutation(ep.direct, false);
  await checkLowMutation(ep.kubegate);
  await checkLowMutation(ep.bare, false);
  const targets = (/** @type {number} */ c, /** @type {number} */ s) => ({
    direct: () => load(ep.direct, c, s, o.cpu),
    kubegate: () => load(ep.kubegate, c, s, o.cpu),
    bare: () => load(ep.bare, c, s, o.cpu),
    // at 1 client, the disk's floor in the same rounds: one append + fdatasync at a time
    ...(c === 1 ? { fdatasync: () => fdatasyncLoop(o.auditDir, s) } : {}),
  });
  o.log(`LOW mutation: warm-up ${o.warmupSeconds}s per target`);
  await interleave(targets(32, o.warmupSeconds), 1);
  /** @type {Record<string, Awaited<ReturnType<typeof interleave>>>} */
  const out = {};
  for (const c of [1, 32]) {
    const what = `${c === 1 ? 4 : 3} targets (direct, kubegate, bare Node proxy${c === 1 ? ', fdatasync beside the audit log' : ''})`;
    o.log(`LOW mutation: ${c} client(s), ${o.rounds} rounds × ${o.seconds}s × ${what}`);
    out[`c${c}`] = await interleave(targets(c, o.seconds), o.rounds);
  }
  return out;
}

/**
 * @param {{ group: import('../lib/http.mjs').Endpoint, each: import('../lib/http.mjs').Endpoint }} ep
 * @param {{ rounds: number, seconds: number, warmupSeconds: number, log: (s: string) => void,
 *   cpu?: Record<string, number> }} o
 */
export async function benchFsync(ep, o) {
  await checkLowMutation(ep.group);
  await checkLowMutation(ep.each);
  const targets = (/** @type {number} */ s) => ({
    group: () => load(ep.group, 32, s, o.cpu),
    each: () => load(ep.each, 32, s, o.cpu),
  });
  o.log(`audit fsync: warm-up ${o.warmupSeconds}s per target`);
  await interleave(targets(o.warmupSeconds), 1);
  o.log(`audit fsync: 32 clients, ${o.rounds} rounds × ${o.seconds}s, group commit vs one fsync per record`);
  return interleave(targets(o.seconds), o.rounds);
}
