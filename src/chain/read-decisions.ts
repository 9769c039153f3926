import type { KubeRequest } from '../kube/request.js';
import type { Decision } from '../policy/decision.js';
import type { UserInfo } from '../policy/input.js';

/** Per caller at most this many distinct reads are remembered (then that caller's entries start over). */
const MAX_PER_USER = 2048;

/**
 * The policy's decisions on plain reads, remembered. A read's policy input is the parsed request
 * (method, path, query, content type; impersonated reads never come here), the caller, the
 * cluster (its name, labels and settings) and the config, and the policy is a pure function of it: the same read by the same caller under the
 * same policy version gets the same decision, so the wasm evaluation runs once per distinct read.
 *
 * Keyed by the caller's UserInfo object as the identity cache hands it out: a re-reviewed
 * identity is a new object, so a caller whose groups changed is decided afresh; entries go with
 * the object (WeakMap). A new policy version empties everything.
 */
export class ReadDecisions {
  private byUser = new WeakMap<UserInfo, Map<string, Decision>>();
  private version = '';

  get(kr: KubeRequest, user: UserInfo, cluster: string, version: string): Decision | undefined {
    if (version !== this.version) return undefined;
    return this.byUser.get(user)?.get(keyOf(kr, cluster));
  }

  set(kr: KubeRequest, user: UserInfo, cluster: string, decision: Decision, version: string): void {
    if (version !== this.version) {
      this.byUser = new WeakMap();
      this.version = version;
    }
    let mine = this.byUser.get(user);
    if (!mine || mine.size >= MAX_PER_USER) {
      mine = new Map();
      this.byUser.set(user, mine);
    }
    mine.set(keyOf(kr, cluster), decision);
  }
}

/** Everything of a read the policy input carries (the resource fields derive from these), and its cluster. */
function keyOf(kr: KubeRequest, cluster: string): string {
  return `${cluster} ${kr.verb} ${kr.contentType} ${kr.path}?${kr.search}`;
}
