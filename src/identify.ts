import { createHash } from 'node:crypto';
import { kubeCall } from './kube/client.js';
import { StatusError } from './kube/status.js';
import type { UserInfo } from './policy/input.js';
import type { Upstream } from './upstream.js';

/** Authorization values up to this length are cache keys as they are (a JWT is ~1 KiB). */
const MAX_KEPT_TOKEN = 4096;

export const ANONYMOUS: UserInfo = {
  username: 'system:anonymous',
  uid: '',
  groups: ['system:unauthenticated'],
  extra: {},
};

interface SelfSubjectReview {
  status?: {
    userInfo?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}

/**
 * Who is asking, as the upstream sees it: a SelfSubjectReview sent with the
 * caller's own credentials. Client-sent identity headers are never trusted.
 * Results are cached per credential for a short time.
 */
export class Identifier {
  /**
   * Token callers by the exact Authorization header value, certificate callers by the
   * certificate's sha256: two maps, so no header value can ever name a certificate's entry.
   * (Hashing the token per request cost more than the rest of the identity lookup; the token is
   * in this process's memory while its requests are anyway.) A token longer than
   * MAX_KEPT_TOKEN is kept by its sha256, in a third map: 10,000 entries stay small whatever an
   * authenticator accepts, and no short token can spell a long one's key.
   */
  private byToken = new Map<string, { user: UserInfo; until: number }>();
  private byLongToken = new Map<string, { user: UserInfo; until: number }>();
  private byCert = new Map<string, { user: UserInfo; until: number }>();

  constructor(
    private readonly upstream: Upstream,
    private readonly ttlMs: number,
  ) {}

  /** Which map and key a caller's identity is kept under (see the maps above). */
  private slotOf(
    authorization: string,
    certUser: { sha256: string } | undefined,
  ): [Map<string, { user: UserInfo; until: number }>, string] {
    if (certUser) return [this.byCert, certUser.sha256];
    if (authorization.length <= MAX_KEPT_TOKEN) return [this.byToken, authorization];
    return [this.byLongToken, createHash('sha256').update(authorization).digest('hex')];
  }

  /**
   * `credentials` are what goes upstream for this caller (see authenticate.ts); `certUser`, for a
   * client-certificate caller, is the CN the answer must name.
   */
  async identify(
    credentials: Record<string, string | string[]>,
    certUser?: { username: string; sha256: string },
    auditId?: string,
  ): Promise<UserInfo> {
    const authorization = credentials.authorization;
    if (typeof authorization !== 'string' || !authorization) return ANONYMOUS;
    // A certificate caller is sent as kubegate + Impersonate-*: the certificate, not kubegate's
    // token, says who it is. A token caller's own Impersonate-* are not its identity (the policy
    // sees them as impersonation), so only the token is reviewed.
    const [cache, key] = this.slotOf(bearerToken(authorization), certUser);
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.user;

    let res: Awaited<ReturnType<typeof kubeCall<SelfSubjectReview>>>;
    try {
      res = await kubeCall<SelfSubjectReview>(this.upstream, {
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        // kubegate's request id, so the apiserver's audit event of the review matches kubegate's record
        headers: {
          ...(certUser ? credentials : { authorization }),
          ...(auditId ? { 'audit-id': auditId } : {}),
        },
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
    } catch (err) {
      throw new StatusError(
        503,
        'ServiceUnavailable',
        `cannot verify your identity with the API server: ${(err as Error).message}`,
      );
    }
    if (res.status === 401)
      throw new StatusError(401, 'Unauthorized', 'the API server did not accept your credentials');
    if (certUser && res.status === 403)
      throw new StatusError(
        403,
        'Forbidden',
        `kubegate may not impersonate ${certUser.username} upstream: its service account needs RBAC "impersonate" on users, groups and userextras`,
      );
    const info = res.body?.status?.userInfo;
    if (res.status !== 201 || !info?.username || (certUser && info.username !== certUser.username)) {
      throw new StatusError(
        403,
        'Forbidden',
        `cannot verify your identity with the API server (SelfSubjectReview answered HTTP ${res.status})`,
      );
    }
    const user: UserInfo = {
      username: info.username,
      uid: info.uid ?? '',
      groups: info.groups ?? [],
      extra: info.extra ?? {},
    };
    if (cache.size > 10_000) cache.clear(); // bounded: credentials churn in long runs
    cache.set(key, { user, until: now + this.ttlMs });
    return user;
  }
}

/**
 * The credential the apiserver reads from an Authorization header: for `Bearer TOKEN rest`, TOKEN
 * (it takes the second word). Keying the cache on it means padding the header cannot make every
 * request a fresh review (a cheap way to tie up the upstream pool).
 */
function bearerToken(authorization: string): string {
  // the usual "Bearer TOKEN" is its own key (no split and copy of a ~1 KiB JWT per request)
  if (authorization.startsWith('Bearer ') && authorization.length > 7 && authorization.indexOf(' ', 7) < 0)
    return authorization;
  const [scheme, token] = authorization.split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && token ? `Bearer ${token}` : authorization;
}
