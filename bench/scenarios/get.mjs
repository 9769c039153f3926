// GET of one small object at 1 and 32 clients: direct, through kubegate, through kubectl proxy.

import { runH2Load } from '../lib/h2load.mjs';
import { mustCall } from '../lib/http.mjs';
import { interleave, runLoad } from '../lib/load.mjs';

export const GET_PATH = '/api/v1/namespaces/bench-get/configmaps/small';

/** Creates the object GET_PATH reads (the namespace bench-get must exist). */
export function ensureSmallObject(/** @type {import('../lib/http.mjs').Endpoint} */ admin) {
  return mustCall(
    admin,
    {
      method: 'POST',
      path: '/api/v1/namespaces/bench-get/configmaps',
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'small' },
        data: { greeting: 'hello', n: '42' },
      },
    },
    [201, 409],
  );
}

/**
 * @param {{ direct: import('../lib/http.mjs').Endpoint, kubegate: import('../lib/http.mjs').Endpoint,
 *   proxy: import('../lib/http.mjs').Endpoint, admin: import('../lib/http.mjs').Endpoint }} ep
 * @param {{ rounds: number, seconds: number, warmupSeconds: number, log: (s: string) => void,
 *   cpu?: Record<string, number> }} o
 */
export async function benchGet(ep, o) {
  await ensureSmallObject(ep.admin);
  for (const e of [ep.direct, ep.kubegate, ep.proxy]) await mustCall(e, { path: GET_PATH });

  const targets = (/** @type {number} */ connections, /** @type {number} */ seconds) => ({
    direct: () => runLoad(ep.direct, { path: GET_PATH, connections, seconds, cpu: o.cpu }),
    kubegate: () => runLoad(ep.kubegate, { path: GET_PATH, connections, seconds, cpu: o.cpu }),
    proxy: () => runLoad(ep.proxy, { path: GET_PATH, connections, seconds, cpu: o.cpu }),
  });
  o.log(`GET: warm-up ${o.warmupSeconds}s per target`);
  await interleave(targets(32, o.warmupSeconds), 1);
  /** @type {Record<string, Awaited<ReturnType<typeof interleave>>>} */
  const out = {};
  for (const c of [1, 32]) {
    o.log(`GET: ${c} client(s), ${o.rounds} rounds × ${o.seconds}s × 3 targets`);
    out[`c${c}`] = await interleave(targets(c, o.seconds), o.rounds);
  }
  // HTTP/2 as kubectl and client-go speak it: 32 requests in flight over one connection
  // (kubectl proxy serves plain HTTP/1.1 only, so it has no column here)
  o.log(`GET over HTTP/2: 32 streams on 1 connection, ${o.rounds} rounds × ${o.seconds}s × 2 targets`);
  const h2 = (/** @type {import('../lib/http.mjs').Endpoint} */ e) => () =>
    runH2Load(e, { path: GET_PATH, streams: 32, seconds: o.seconds, cpu: o.cpu });
  out.h2c32 = await interleave({ direct: h2(ep.direct), kubegate: h2(ep.kubegate) }, o.rounds);
  return out;
}
