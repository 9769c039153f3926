import { readFileSync } from 'node:fs';
import https from 'node:https';
import { Pool } from 'undici';
import { readKubeconfig } from './kube/kubeconfig-read.js';

/**
 * The largest answer head kubegate reads from the upstream. client-go reads up to 10 MB (Go's
 * default); Node and undici stop at 16 KiB. An apiserver's Warnings echo what a client sent (an
 * unknown field's name), so a change could otherwise make its own answer unreadable to kubegate
 * while the apiserver applied it.
 */
export const MAX_ANSWER_HEADER_BYTES = 1024 * 1024;

/** Where kubegate forwards to, and how it trusts it. Credentials are always the caller's. */
export interface Upstream {
  url: URL;
  ca?: Buffer;
  agent: https.Agent;
  /**
   * The pool clients' requests go through (undici: about a quarter less CPU per request than
   * `https.request`). The agent above serves kubegate's own calls and upgrades.
   */
  pool: Pool;
  /**
   * kubegate's OWN credentials: never sent as a token caller's identity. kubegate uses them for
   * its own state and health calls, and with Impersonate-* to act as someone else: a client-
   * certificate caller, the approver who asked for a rollback, the requester of a previewed
   * request. Undefined when none are configured.
   */
  ownAuthorization: () => string | undefined;
}

export interface UpstreamOptions {
  kubeconfig?: string;
  context?: string;
  url?: string;
  caFile?: string;
  /** kubegate's own bearer token file (in a cluster: the service-account token, re-read on use). */
  tokenFile?: string;
}

/** Builds the upstream from a URL + CA, or from a kubeconfig context (default: current). */
export function loadUpstream(opts: UpstreamOptions): Upstream {
  let server: string;
  let ca: Buffer | undefined;
  let insecure = false;
  let ownToken: string | undefined;
  let tokenFile = opts.tokenFile;
  if (opts.url) {
    server = opts.url;
    if (opts.caFile) ca = readFileSync(opts.caFile);
  } else {
    const target = readKubeconfig(opts.kubeconfig, opts.context);
    ({ server, ca, insecure } = target);
    ownToken = target.token;
    tokenFile ??= target.tokenFile;
  }
  const url = new URL(server);
  if (url.protocol !== 'https:') throw new Error(`upstream must be https, got ${server}`);
  if (insecure)
    throw new Error('upstream with insecure-skip-tls-verify is refused: give kubegate the cluster CA');
  // keep-alive pools: reads are many small requests; a fresh TLS handshake each would dominate latency
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 512,
    maxFreeSockets: 64,
    // as a string: the agent names its socket pools by the TLS options, CA included, per request,
    // and a Buffer there is decoded to text every time
    ...(ca ? { ca: ca.toString('utf8') } : {}),
  });
  const pool = upstreamPool(url.origin, ca ? { ca } : {});
  const ownAuthorization = () => {
    const t = tokenFile ? readFileSync(tokenFile, 'utf8').trim() : ownToken;
    return t ? `Bearer ${t}` : undefined;
  };
  return { url, agent, pool, ownAuthorization, ...(ca ? { ca } : {}) };
}

/**
 * Where `https.request` sends kubegate's own calls (identity reviews, live objects, dry-run decodes,
 * rollbacks and previews): the upstream's keep-alive agent, reading answer heads as the pool does.
 */
export function upstreamRequestOptions(u: Upstream): https.RequestOptions {
  return {
    host: u.url.hostname,
    port: u.url.port || 443,
    agent: u.agent,
    maxHeaderSize: MAX_ANSWER_HEADER_BYTES,
  };
}

/** The pool clients' requests go through, to one upstream. */
export function upstreamPool(origin: string, connect: Pool.Options['connect']): Pool {
  return new Pool(origin, {
    // no cap: a watch holds its connection for as long as it runs, and a capped pool would make
    // every other caller's reads queue behind someone's many watches (limits.max_reads_in_flight
    // bounds them instead)
    connections: null,
    // watches and long LISTs end when the apiserver ends them (as with the agent), not on a timer
    headersTimeout: 0,
    bodyTimeout: 0,
    maxHeaderSize: MAX_ANSWER_HEADER_BYTES,
    connect,
  });
}

/** Closes every pooled connection to the upstream (kubegate shutting down). */
export function closeUpstream(u: Upstream): void {
  u.agent.destroy();
  void u.pool.destroy().catch(() => undefined);
}
