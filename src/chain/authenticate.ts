import type { Logger } from 'pino';
import { certCredentials, readCertCaller, tokenCredentials } from '../clientcert.js';
import { ANONYMOUS } from '../identify.js';
import { StatusError } from '../kube/status.js';
import { moveBearerSubprotocol } from '../kube/ws-bearer.js';
import type { Metrics, RefusedCaller } from '../metrics.js';
import type { RequestContext, With } from './context.js';

export interface AuthenticateDeps {
  /** Whether callers may present client certificates (a client CA is set, for some cluster). */
  clientCertificates: boolean;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Who is asking, before a single body byte is read: a verified client certificate (acted for
 * upstream by impersonation) or the caller's own token, reviewed by the upstream. An anonymous
 * or unverifiable caller's change is refused here, so its body is never buffered.
 */
export async function authenticate(ctx: RequestContext, d: AuthenticateDeps): Promise<With<'caller'>> {
  moveBearerSubprotocol(ctx.headers);
  const cert = ctx.req && d.clientCertificates ? readCertCaller(ctx.req, ctx.cluster.clientCa) : undefined;
  const credentials = cert
    ? certCredentials(cert, ctx.kr, ctx.headers, ctx.cluster.upstream.ownAuthorization)
    : tokenCredentials(ctx.headers);
  let user: typeof ANONYMOUS;
  try {
    // the cluster the request is for says who the credentials are: a token of another is no one here
    user = await ctx.cluster.identifier.identify(credentials, cert, ctx.id);
  } catch (err) {
    if (err instanceof StatusError && err.code === 401) countRefused(d, 'unverifiable', ctx);
    throw err;
  }
  if (ctx.kr.mutating && user.username === ANONYMOUS.username) {
    countRefused(d, 'anonymous', ctx);
    throw new StatusError(
      401,
      'Unauthorized',
      'kubegate forwards no changes from anonymous callers: send credentials',
    );
  }
  ctx.facts.user = user.username;
  return Object.assign(ctx, { caller: { user, credentials } });
}

let lastLog = 0;
let unlogged = 0;

/** Counted always; logged at most once every 10 s (a flood must not flood the log too). */
export function countRefused(
  d: { metrics: Metrics; logger: Logger },
  kind: RefusedCaller,
  ctx: RequestContext,
): void {
  d.metrics.refusedCaller(kind);
  unlogged++;
  const now = Date.now();
  if (now - lastLog < 10_000) return;
  d.logger.warn(
    { kind, refused_since_last_log: unlogged, method: ctx.kr.method, path: ctx.kr.path },
    'refused callers before reading their request',
  );
  lastLog = now;
  unlogged = 0;
}
