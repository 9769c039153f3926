import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { countApprovals } from './approval/count.js';
import { fingerprint } from './approval/fingerprint.js';
import type { ApproverJwks } from './approval/keys.js';
import type { Notifier } from './approval/notifier.js';
import { ApprovalError, approvalJti, verifyApproval } from './approval/token.js';
import type { AuditInput, AuditLog } from './audit/log.js';
import { upstreamCredentials } from './clientcert.js';
import type { Config } from './config.js';
import { ANONYMOUS, type Identifier } from './identify.js';
import { NEEDS_DECODE, parseBody, YAML_TYPES } from './kube/body.js';
import { decodeViaDryRun } from './kube/decode.js';
import { fetchLive, objectPath, resourceVersionOf } from './kube/live.js';
import {
  DELETE_OPTION_PARAMS,
  describeRequest,
  hasImpersonation,
  honoursDryRun,
  isDelete,
  type KubeRequest,
  proxyMethodOf,
} from './kube/request.js';
import { badRequest, forbidden, StatusError } from './kube/status.js';
import { type Metrics, stopwatch } from './metrics.js';
import { type Decision, PolicyError } from './policy/decision.js';
import type { PolicyEngine } from './policy/engine.js';
import { buildInput, type UserInfo } from './policy/input.js';
import { readBody } from './proxy/body.js';
import type { Admission, Gate } from './server.js';
import {
  type PendingDetail,
  type PendingRequest,
  pendingDetail,
  type Snapshot,
  type StateStore,
  type StoredApproval,
} from './state/store.js';
import type { Upstream } from './upstream.js';
import { needsValidation, validateRollout } from './validate.js';

export interface GateDeps {
  config: Config;
  policy: PolicyEngine;
  identifier: Identifier;
  store: StateStore;
  audit: AuditLog;
  jwks: () => ApproverJwks;
  notifier: Notifier;
  upstream: Upstream;
  logger: Logger;
  metrics: Metrics;
}

/** Which audit events count as which decision outcome in the metrics. */
const OUTCOME_OF: Record<string, 'forwarded' | 'held' | 'blocked' | 'rejected' | undefined> = {
  forwarded: 'forwarded',
  held: 'held',
  blocked: 'blocked',
  rejected: 'rejected',
};

/** How often a held request re-reads the store (approvals may arrive through another replica). */
const POLL_MS = 1000;

/**
 * A DELETE with a body is decided by its DeleteOptions: the apiserver then ignores the
 * query entirely. So `?dryRun=All` with a body `{}` is a REAL delete, and a body with
 * `dryRun: ["All"]` is a dry run (what kubectl sends). Anything ambiguous is refused.
 */
function applyDeleteOptionsDryRun(kr: KubeRequest, object: unknown, bodyBytes: number): void {
  // Any body bytes at all (even `null`, `~` or a YAML comment) make the apiserver ignore the query.
  if (!isDelete(kr) || bodyBytes === 0) return;
  if (object !== null && object !== undefined && (typeof object !== 'object' || Array.isArray(object))) {
    throw badRequest('a DELETE body must be DeleteOptions');
  }
  const dry = (object as { dryRun?: unknown } | null)?.dryRun;
  const bodyDry = Array.isArray(dry) && dry.length === 1 && dry[0] === 'All';
  if (dry !== undefined && dry !== null && !bodyDry && !(Array.isArray(dry) && dry.length === 0)) {
    throw badRequest('DeleteOptions.dryRun must be ["All"] or absent');
  }
  // the approver must see the options that apply: with a body, those in the query do not
  const ignored = DELETE_OPTION_PARAMS.filter((k) => kr.query[k] && !(k === 'dryRun' && bodyDry));
  if (ignored.length) {
    throw badRequest(
      `${ignored.join(', ')} in the query ${ignored.length > 1 ? 'are' : 'is'} ignored by the API server when a DELETE has a body: put ${ignored.length > 1 ? 'them' : 'it'} in DeleteOptions`,
    );
  }
  kr.dryRun = bodyDry;
}

/** Subresources whose upgrade opens a stream into a container: nothing runs unless it switched. */
const STREAMS = new Set(['exec', 'attach', 'portforward']);

/**
 * The `n` pending requests to displace for `requester`'s new one: its own oldest first, then the
 * oldest of whoever holds the most. Never someone else's while the flooder has any left.
 */
export function displaceable(pending: PendingRequest[], requester: string, n: number): PendingRequest[] {
  const byUser = new Map<string, PendingRequest[]>();
  for (const p of [...pending].sort((a, b) => a.createdAt - b.createdAt)) {
    const list = byUser.get(p.requester) ?? [];
    list.push(p);
    byUser.set(p.requester, list);
  }
  const out: PendingRequest[] = [];
  while (out.length < n && byUser.size > 0) {
    const own = byUser.get(requester);
    const from = own?.length
      ? requester
      : [...byUser.entries()].sort((a, b) => b[1].length - a[1].length)[0]![0];
    const list = byUser.get(from)!;
    out.push(list.shift()!);
    if (list.length === 0) byUser.delete(from);
  }
  return out;
}

/** The DeleteOptions the gate decided on, as the JSON body that is forwarded. */
function deleteOptionsJson(req: IncomingMessage, object: unknown): Buffer {
  req.headers['content-type'] = 'application/json';
  return Buffer.from(JSON.stringify(object ?? {}));
}

/** A YAML body as the JSON it was read as (apply patches keep their type: JSON is YAML). */
function yamlAsJson(req: IncomingMessage, kr: KubeRequest, object: unknown): Buffer {
  if (kr.contentType === 'application/yaml') req.headers['content-type'] = 'application/json';
  return Buffer.from(JSON.stringify(object));
}

/** The dry run and the real request share one fingerprint: drop DeleteOptions.dryRun from it. */
function withoutDryRun(kr: KubeRequest, object: unknown): unknown {
  if (!isDelete(kr) || !object || typeof object !== 'object') return object;
  const { dryRun: _dryRun, ...rest } = object as Record<string, unknown>;
  return rest;
}

export function newRequestId(now = new Date()): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return `req-${day}-${randomBytes(5).toString('hex')}`;
}

/** "ns/resource/name" of the object a request changes (a create's name comes from its body). */
function target(kr: KubeRequest, object?: unknown): string {
  if (!kr.resourceRequest) return kr.path;
  const created = (object as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  const name = kr.name || (kr.verb === 'create' && typeof created === 'string' ? created : '');
  return [kr.namespace, kr.resource, name].filter(Boolean).join('/');
}

function configForPolicy(c: Config): Record<string, unknown> {
  return {
    production_namespaces: c.safety.production_namespaces,
    block_production: c.safety.block_production,
  };
}

/**
 * A Warning header value (a quoted-string). Names from request bodies may hold any character;
 * a header only ASCII, so anything else shows as "?" (valid object names are ASCII anyway).
 */
function warning(text: string): string {
  return `299 - "${text.replace(/[\r\n"\\]/g, ' ').replace(/[^\x20-\x7e]/g, '?')}"`;
}

/**
 * The gate: identify → decide → (hold for approval) → audit, for every request.
 * Reads decided LOW stream straight through; everything else is decided on its
 * full body and recorded durably before a single byte goes upstream.
 */
export function createGate(deps: GateDeps): Gate {
  const { config, policy, identifier, store, audit, notifier, upstream, logger, metrics } = deps;
  const ex = config.execution;
  const safety = config.safety;

  /** Appends a record; if the audit log is down, nothing is forwarded (fail closed). */
  async function record(input: AuditInput): Promise<void> {
    try {
      const elapsed = stopwatch();
      await audit.append(safety.require_approval ? input : { ...input, approval_disabled: true });
      metrics.auditAppend(elapsed());
      if (input.risk) {
        const outcome = OUTCOME_OF[input.event];
        if (outcome) metrics.decision(String(input.risk), outcome);
      }
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'audit log unavailable: refusing');
      throw new StatusError(
        503,
        'ServiceUnavailable',
        'kubegate cannot write its audit log, so it forwards no changes right now',
      );
    }
  }

  function decide(kr: KubeRequest, user: UserInfo, object: unknown, oldObject: unknown): Decision {
    const elapsed = stopwatch();
    const d = policy.decide(buildInput(kr, user, object, oldObject, configForPolicy(config)));
    metrics.policyEval(elapsed());
    return d;
  }

  async function admit(req: IncomingMessage, kr: KubeRequest, signal: AbortSignal): Promise<Admission> {
    // Fast path: plain reads. Identity is cached, the decision is in-process, nothing is buffered.
    if (!kr.mutating && !hasImpersonation(kr.impersonate)) {
      const user = await identifier.identify(req);
      try {
        const d = decide(kr, user, null, null);
        if (d.risk === 'LOW' && d.deny.length === 0) return { headers: { 'kubegate-risk': 'LOW' } };
      } catch (err) {
        // reads fail open on a policy error (they change nothing), loudly
        logger.error({ err: (err as Error).message, path: kr.path }, 'policy error on a read; forwarding');
        return {};
      }
    }
    return gated(req, kr, signal);
  }

  async function gated(req: IncomingMessage, kr: KubeRequest, signal: AbortSignal): Promise<Admission> {
    const started = Date.now();
    const body =
      kr.mutating && !kr.upgrade ? await readBody(req, config.limits.max_body_bytes) : Buffer.alloc(0);
    const user = await identifier.identify(req);
    if (kr.mutating && user.username === ANONYMOUS.username) {
      throw new StatusError(
        401,
        'Unauthorized',
        'kubegate forwards no changes from anonymous callers: send credentials',
      );
    }
    const parsed = kr.upgrade ? null : parseBody(kr, body);
    // A binary body is fingerprinted by its bytes (stable across runs) and shown decoded.
    let object: unknown = parsed;
    if (parsed === NEEDS_DECODE) {
      try {
        object = await decodeViaDryRun(upstream, req, kr, body);
      } catch (err) {
        // the apiserver refused the bytes (e.g. AlreadyExists): nothing is forwarded, but it is on record
        await record({
          event: 'refused',
          action: describeRequest(kr),
          user: user.username,
          status: 'refused',
          resource: target(kr),
          message: (err as Error).message,
        });
        throw err;
      }
    }
    applyDeleteOptionsDryRun(kr, object, body.length);
    // A DELETE body goes upstream as kubegate read it, in JSON, never as the client's bytes: the
    // apiserver must not decode other DeleteOptions (another dryRun) from them than the gate did.
    // The same for YAML: YAML 1.1 parsers disagree (merge keys, tags, sexagesimals), so the
    // apiserver gets the object the policy and the approver saw, as JSON.
    const sent =
      isDelete(kr) && body.length > 0
        ? deleteOptionsJson(req, object)
        : YAML_TYPES.has(kr.contentType) && body.length > 0
          ? yamlAsJson(req, kr, object)
          : body;
    const fpBody =
      parsed === NEEDS_DECODE
        ? { contentType: kr.contentType, sha256: createHash('sha256').update(body).digest('hex') }
        : withoutDryRun(kr, object);
    const needsLive =
      kr.mutating && ['update', 'patch', 'delete', 'connect', 'create'].includes(kr.verb) && kr.name !== '';
    const oldObject = needsLive ? await fetchLive(upstream, kr, upstreamCredentials(req)) : null;
    const requestId = newRequestId();
    let fp: string;
    try {
      fp = fingerprint({ ...kr, user: user.username, body: fpBody, proxyMethod: proxyMethodOf(kr) });
    } catch {
      throw badRequest('request body cannot be canonicalised (non-finite numbers?)');
    }
    const base: AuditInput = {
      event: 'received',
      request_id: requestId,
      action: describeRequest(kr),
      resource: target(kr, object),
      user: user.username,
    };

    let decision: Decision;
    const input = buildInput(kr, user, object, oldObject, configForPolicy(config));
    try {
      const elapsed = stopwatch();
      decision = policy.decide(input);
      metrics.policyEval(elapsed());
    } catch (err) {
      const why = err instanceof PolicyError ? err.message : 'policy evaluation failed';
      await record({
        ...base,
        event: 'blocked',
        status: 'refused',
        reasons: [why],
        policy: policy.version,
        fingerprint: fp,
      });
      throw forbidden(`kubegate refused ${describeRequest(kr)}: ${why} (fail closed; audit ${requestId})`);
    }
    const decided: AuditInput = {
      ...base,
      risk: decision.risk,
      reasons: decision.reasons,
      policy: decision.policy,
      fingerprint: fp,
      // what the policy saw (minus the live object), so `kubegate policy replay` can re-decide it
      policy_input: { request: input.request, user: input.user, config: input.config },
    };
    const summary = `${decision.risk} risk (${decision.reasons.join('; ') || 'no reason given'})`;

    const freeze = await store.getFreeze();
    if (freeze.on) {
      await record({ ...decided, event: 'blocked', status: 'refused', message: `frozen by ${freeze.by}` });
      throw forbidden(
        `kubegate is frozen (emergency stop by ${freeze.by}${freeze.reason ? `: ${freeze.reason}` : ''}): no changes are forwarded; reads still work`,
      );
    }
    if (decision.deny.length > 0) {
      await record({ ...decided, event: 'blocked', status: 'refused', message: decision.deny.join('; ') });
      throw forbidden(`denied by policy: ${decision.deny.join('; ')} (${summary}; audit ${requestId})`);
    }

    const forward = async (
      event: AuditInput,
      extra: { approvers?: string[]; pending?: PendingRequest; jtis?: string[]; snapshot?: Snapshot } = {},
    ): Promise<Admission> => {
      const id = extra.pending?.id ?? requestId;
      await record({
        ...event,
        request_id: id,
        event: 'forwarded',
        status: 'pending',
        ...(extra.approvers ? { approvers: extra.approvers } : {}),
        ...(kr.dryRun ? { dry_run: true } : {}),
        body: object,
      });
      return {
        body: sent,
        headers: {
          warning: warning(
            `kubegate: ${summary}${extra.approvers ? `, approved by ${extra.approvers.join(', ')}` : ''}; audit id ${id}`,
          ),
        },
        done: (o) => {
          metrics.upstream('write', o.durationMs / 1000);
          const ok = kr.upgrade ? o.status === 101 : o.status >= 200 && o.status < 300;
          // An exec/attach/port-forward upgrade the upstream refused opened no stream: nothing ran, so
          // the approval is not spent (kubectl retries a refused WebSocket exec over SPDY with the very
          // same request). Never for proxy: the backend may have answered, i.e. acted, without a 101.
          const keep = kr.upgrade && STREAMS.has(kr.subresource) && !ok && !!extra.jtis?.length;
          void audit
            .append({
              ...(safety.require_approval ? {} : { approval_disabled: true }),
              ...event,
              request_id: id,
              event: ok ? 'executed' : 'failed',
              status: ok ? 'success' : 'failed',
              http_status: o.status,
              duration_seconds: (Date.now() - started) / 1000,
              ...(o.error ? { message: o.error } : {}),
              ...(kr.dryRun ? { dry_run: true } : {}),
              ...(keep ? { approval_kept: true } : {}),
            })
            .catch((err: Error) =>
              logger.error({ err: err.message, request_id: id }, 'cannot record the outcome'),
            );
          if (ok && kr.dryRun) void store.recordDryRun(fp, Date.now());
          // only a change that ran can be rolled back (a failed create made nothing to delete)
          if (ok && !kr.dryRun && extra.snapshot)
            void store
              .putSnapshot({ ...extra.snapshot, executed: true })
              .catch((err: Error) =>
                logger.error({ err: err.message, request_id: id }, 'cannot mark the snapshot executed'),
              );
          const path = objectPath(kr);
          if (
            ok &&
            !kr.dryRun &&
            ex.validate_rollout_seconds > 0 &&
            path &&
            needsValidation(kr.group, kr.resource)
          ) {
            void validateRollout(
              upstream,
              upstreamCredentials(req),
              path,
              id,
              ex.validate_rollout_seconds * 1000,
            )
              .then((rec) =>
                audit.append({ ...rec, action: event.action, resource: event.resource, user: event.user }),
              )
              .catch((err: Error) =>
                logger.error({ err: err.message, request_id: id }, 'cannot record the rollout check'),
              );
          }
          if (keep) {
            void store
              .releaseApprovals(extra.jtis!)
              .then(() => extra.pending && store.transitionPending(extra.pending.id, ['approved'], 'pending'))
              .then(() => notifier.notify(fp, { kind: 'approved' }));
          } else if (extra.pending)
            void store.transitionPending(
              extra.pending.id,
              ['approved'],
              ok ? 'executed' : 'failed',
              `HTTP ${o.status}`,
            );
        },
      };
    };

    // A server-side dry run changes nothing: it runs without approval (and is how approvers preview a change).
    if (kr.dryRun && kr.resourceRequest && honoursDryRun(kr)) {
      return forward(decided);
    }
    if (decision.risk === 'LOW' && ex.auto_approve_low_risk) return forward(decided);
    if (!safety.require_approval) return forward(decided);

    if (ex.require_dry_run && decision.dry_run_first && !(await store.hasDryRun(fp))) {
      await record({ ...decided, event: 'blocked', status: 'refused', message: 'dry run required first' });
      throw forbidden(
        `${summary}: run the identical command with --dry-run=server first, then again for real (audit ${requestId})`,
      );
    }

    const headerTokens = String(req.headers['kubegate-approval'] ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    for (const token of headerTokens) await acceptHeaderToken(token, fp, user, decided);

    const detail: PendingDetail = {
      ...pendingDetail(kr, fpBody, oldObject, decision),
      ...(parsed === NEEDS_DECODE ? { decoded: object } : {}),
    };

    let pending = await store.findPendingByFingerprint(fp);
    let announced = false;
    const deadline = Date.now() + ex.hold_seconds * 1000;
    for (;;) {
      const live = await store.approvalsFor(fp, Date.now());
      const verdict = countApprovals(live, decision, {
        allowCritical: safety.allow_critical,
        requester: user.username,
        resourceVersion: resourceVersionOf(oldObject),
      });
      if (verdict.ok) {
        if (pending && !(await store.transitionPending(pending.id, ['pending', 'approved'], 'approved'))) {
          throw new StatusError(409, 'Conflict', `request ${pending.id} is no longer pending`);
        }
        // Every live approval of this request is spent by this one run, not only those counted:
        // a second approval (the same approver twice, or one more than needed) must not run it again.
        if (
          !(await store.consumeApprovals(
            live.map((a) => a.jti),
            Date.now(),
          ))
        ) {
          throw new StatusError(
            409,
            'Conflict',
            'the approval was used by another request at the same moment; run it again',
          );
        }
        const snapshot: Snapshot = {
          requestId: pending?.id ?? requestId,
          target: target(kr, object),
          before: oldObject,
          detail,
          createdAt: Date.now(),
        };
        await store.putSnapshot(snapshot);
        const approvers = verdict.use.map((a) => a.approver);
        if (pending) metrics.approvalLatency((Date.now() - pending.createdAt) / 1000);
        return forward(decided, {
          approvers,
          jtis: live.map((a) => a.jti),
          snapshot,
          ...(pending ? { pending } : {}),
        });
      }
      if (!pending) pending = await createPending(requestId, fp, user, decision, kr, detail);
      if (!announced) {
        await record({
          ...decided,
          request_id: pending.id,
          event: decision.override_required ? 'blocked' : 'held',
          status: 'pending',
          body: object,
          message: verdict.why,
        });
        announced = true;
      }
      const how = `approve-cli approve ${pending.id}${decision.override_required ? ' --override --reason TEXT (two different approvers)' : ''}`;
      const instructions = `held for approval as ${pending.id}: ${summary}; ${verdict.why}. Approve with \`${how}\`, then run the same command again`;
      if (decision.override_required && !safety.allow_critical && verdict.why.includes('override')) {
        throw forbidden(`blocked: ${instructions}`, { name: pending.id, kind: 'kubegate-request' });
      }
      const left = deadline - Date.now();
      if (left <= 0) throw forbidden(instructions, { name: pending.id, kind: 'kubegate-request' });
      // Approvals may land on another replica: poll the shared store as well as listening locally.
      metrics.held(1);
      const ev = await notifier.wait(fp, Math.min(left, POLL_MS), signal).finally(() => metrics.held(-1));
      if (ev === 'aborted') throw new StatusError(499 as number, 'Timeout', 'client went away while held');
      if (ev === 'timeout') {
        const now = await store.getPending(pending.id);
        if (now && (now.status === 'rejected' || now.status === 'cancelled')) {
          throw forbidden(`${now.status}: ${now.message ?? 'no reason given'} (request ${pending.id})`, {
            name: pending.id,
            kind: 'kubegate-request',
          });
        }
        continue; // re-check the approvals; past the deadline this gives the held answer
      }
      if (ev.kind === 'rejected' || ev.kind === 'cancelled') {
        throw forbidden(
          `${ev.kind === 'rejected' ? 'rejected' : 'cancelled'}: ${ev.message} (request ${pending.id})`,
          { name: pending.id, kind: 'kubegate-request' },
        );
      }
      // approved: loop and re-check the approvals (they may still not be enough)
    }
  }

  async function createPending(
    id: string,
    fp: string,
    user: UserInfo,
    d: Decision,
    kr: KubeRequest,
    detail: PendingDetail,
  ): Promise<PendingRequest> {
    // Bounded: past the cap a new request displaces the oldest pending one of whoever holds the most
    // (its own requester first), refused with a clear message. So a flood only displaces the flooder.
    const count = await store.countPending();
    if (count >= config.limits.max_held_requests) {
      const oldest = displaceable(
        await store.listPending(['pending']),
        user.username,
        count - config.limits.max_held_requests + 1,
      );
      for (const o of oldest) {
        const msg = `displaced: more than ${config.limits.max_held_requests} requests were pending`;
        if (await store.transitionPending(o.id, ['pending'], 'cancelled', msg)) {
          notifier.notify(o.fingerprint, { kind: 'cancelled', message: msg });
          await record({
            event: 'cancelled',
            request_id: o.id,
            user: o.requester,
            status: 'refused',
            message: msg,
          });
        }
      }
    }
    const now = Date.now();
    const p: PendingRequest = {
      id,
      fingerprint: fp,
      status: 'pending',
      requester: user.username,
      requesterGroups: user.groups,
      risk: d.risk,
      reasons: d.reasons,
      target: target(kr, detail.decoded ?? detail.body),
      createdAt: now,
      updatedAt: now,
      detail,
    };
    await store.putPending(p);
    return p;
  }

  /** A token delivered out of band in the `Kubegate-Approval` header. */
  async function acceptHeaderToken(
    token: string,
    fp: string,
    user: UserInfo,
    decided: AuditInput,
  ): Promise<void> {
    try {
      const v = await verifyApproval(token, deps.jwks(), {
        audience: config.cluster_name,
        maxTtlSeconds: ex.max_token_ttl_seconds,
      });
      if (v.action !== 'approve') throw new ApprovalError('token is not an approval', 'invalid');
      if (!v.fingerprints?.includes(fp))
        throw new ApprovalError('approval is for a different request', 'mismatch');
      if (v.approver === user.username)
        throw new ApprovalError('a requester cannot approve their own request', 'self-approval');
      if (v.iat * 1000 <= (await store.withdrawnAt(fp))) {
        throw new ApprovalError(
          'this approval was signed before the request was rejected or revoked',
          'invalid',
        );
      }
      const stored: StoredApproval = {
        // one token id per approved fingerprint, exactly as the approvals API stores it, so a plan
        // token delivered both ways is still one approval per request
        jti: approvalJti(v.jti, v.fingerprints, fp),
        fingerprint: fp,
        approver: v.approver,
        kid: v.kid,
        override: !!v.override,
        reason: v.reason ?? '',
        exp: v.exp,
        ...(v.resourceVersion ? { resourceVersion: v.resourceVersion } : {}),
        ...(v.planId ? { planId: v.planId } : {}),
      };
      if (!(await store.addApproval(stored)))
        throw new ApprovalError('approval token was already used (replay)', 'replayed');
      await record({
        ...decided,
        event: 'approved',
        approver: v.approver,
        status: 'approved',
        via: 'header',
        override: !!v.override,
      });
    } catch (err) {
      if (!(err instanceof ApprovalError)) throw err;
      await record({
        ...decided,
        event: 'rejected',
        status: 'refused',
        message: `approval refused: ${err.message}`,
      });
      throw forbidden(`approval refused: ${err.message}`);
    }
  }

  return { admit };
}
