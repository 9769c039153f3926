import type { Logger } from 'pino';
import type { Cluster } from '../clusters.js';
import type { Config } from '../config.js';
import { fetchLive } from '../kube/live.js';
import { describeRequest, type KubeRequest } from '../kube/request.js';
import { badRequest, forbidden } from '../kube/status.js';
import { type Metrics, stopwatch } from '../metrics.js';
import { type Decision, PolicyError } from '../policy/decision.js';
import type { PolicyEngine } from '../policy/engine.js';
import { buildInput, type UserInfo } from '../policy/input.js';
import type { StateStore } from '../state/store.js';
import { fingerprint } from '../wire/fingerprint.js';
import { proxyMethodOf } from '../wire/verbs.js';
import type { RequestAudit } from './audit.js';
import { noteAuditMode } from './audit-mode.js';
import { canIWarning } from './can-i.js';
import type { ChangeDecisions } from './change-decisions.js';
import type { With } from './context.js';
import type { ReadDecisions } from './read-decisions.js';

export interface DecideDeps {
  config: Config;
  policy: PolicyEngine;
  store: StateStore;
  audit: RequestAudit;
  metrics: Metrics;
  logger: Logger;
}

/** Verbs whose decision needs the live object the change applies to. */
const NEEDS_LIVE = new Set(['update', 'patch', 'delete', 'connect', 'create']);

/**
 * The policy's decision on a read, with no body and no live object (the read fast path);
 * evaluated once per distinct read, caller, cluster and policy version (see ReadDecisions).
 */
export function decideRead(
  kr: KubeRequest,
  user: UserInfo,
  cluster: Cluster,
  d: DecideDeps,
  seen?: ReadDecisions,
): Decision {
  const version = d.policy.version;
  let decision = seen?.get(kr, user, cluster.name, version);
  if (!decision) {
    const elapsed = stopwatch();
    decision = d.policy.decide(buildInput(kr, user, null, null, cluster));
    d.metrics.policyEval(elapsed());
    seen?.set(kr, user, cluster.name, decision, version);
  }
  noteAuditMode(decision, d.config, d.metrics);
  return decision;
}

/**
 * Decides a request on its full body and the live object: fingerprint, policy (fail closed),
 * then the freeze switch and the policy's deny, each refused with a durable record.
 */
export async function decide(
  ctx: With<'caller' | 'body'>,
  d: DecideDeps,
  seen?: ChangeDecisions,
): Promise<With<'caller' | 'body' | 'decided'>> {
  const { kr, caller, body } = ctx;
  const needsLive = kr.mutating && NEEDS_LIVE.has(kr.verb) && kr.name !== '';
  // fetched on every pass, a parked request's run again included: approvals count against the
  // object as it is when the change would go, never as it was when it was first held
  const live = needsLive ? await fetchLive(ctx.cluster.upstream, kr, caller.credentials) : null;
  let fp: string;
  try {
    fp = fingerprint({
      ...kr,
      cluster: ctx.cluster.name,
      user: caller.user.username,
      body: body.fingerprintBody,
      proxyMethod: proxyMethodOf(kr),
    });
  } catch {
    throw badRequest('request body cannot be canonicalised (non-finite numbers?)');
  }
  ctx.facts.fingerprint = fp;
  const input = buildInput(kr, caller.user, body.object, live, ctx.cluster);
  let decision: Decision;
  try {
    const elapsed = stopwatch();
    decision = seen ? seen.decide(d.policy, input) : d.policy.decide(input);
    d.metrics.policyEval(elapsed());
    if (ctx.rollbackOf)
      decision = { ...decision, reasons: [`rollback of ${ctx.rollbackOf}`, ...decision.reasons] };
  } catch (err) {
    const why = err instanceof PolicyError ? err.message : 'policy evaluation failed';
    await d.audit.record({ ...ctx.facts, reasons: [why], policy: d.policy.version }, 'blocked', {
      status: 'refused',
    });
    throw forbidden(`kubegate refused ${describeRequest(kr)}: ${why} (fail closed; audit ${ctx.id})`);
  }
  Object.assign(ctx.facts, {
    risk: decision.risk,
    reasons: decision.reasons,
    policy: decision.policy,
    // what the policy saw (minus the live object), so `kubegate policy replay` can re-decide it
    policy_input: { request: input.request, user: input.user, cluster: input.cluster, config: input.config },
  });
  noteAuditMode(decision, d.config, d.metrics, ctx.facts);
  const summary = `${decision.risk} risk (${decision.reasons.join('; ') || 'no reason given'})`;
  const freeze = await d.store.getFreeze();
  if (freeze.on) {
    await d.audit.record(ctx.facts, 'blocked', {
      status: 'refused',
      message: `frozen by ${freeze.by}`,
    });
    throw forbidden(
      `kubegate is frozen (emergency stop by ${freeze.by}${freeze.reason ? `: ${freeze.reason}` : ''}): no changes are forwarded; reads still work`,
    );
  }
  if (decision.deny.length > 0) {
    const message = decision.deny.join('; ');
    await d.audit.record(ctx.facts, 'blocked', { status: 'refused', message });
    throw forbidden(`denied by policy: ${message} (${summary}; audit ${ctx.id})`);
  }
  ctx.responseHeaders.warning = warning(`kubegate: ${summary}; audit id ${ctx.id}`) + canIHint(ctx, d);
  return Object.assign(ctx, { decided: { fingerprint: fp, decision, live, summary } });
}

/** `kubectl auth can-i` through kubegate: a second Warning when kubegate would hold that verb. */
function canIHint(ctx: With<'caller' | 'body'>, d: DecideDeps): string {
  try {
    const w = canIWarning(ctx.kr, ctx.body.object, ctx.caller.user, d.policy, ctx.cluster);
    return w ? `, ${w}` : '';
  } catch {
    return ''; // a hint must never cost the request: a policy error only loses the hint
  }
}

/**
 * A Warning header value (a quoted-string). Names from request bodies may hold any character;
 * a header only ASCII, so anything else shows as "?" (valid object names are ASCII anyway).
 */
export function warning(text: string): string {
  return `299 - "${text.replace(/[\r\n"\\]/g, ' ').replace(/[^\x20-\x7e]/g, '?')}"`;
}
