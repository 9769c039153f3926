import type { Logger } from 'pino';
import type { AuditInput, AuditLog } from '../audit/log.js';
import { slimRecord } from '../audit/slim.js';
import type { Commit } from '../audit/writer.js';
import { StatusError } from '../kube/status.js';
import { type Metrics, type Outcome, stopwatch } from '../metrics.js';
import type { RequestContext, RequestFacts } from './context.js';

/** Every event a request can have in the audit log, in the order a request meets them. */
export const REQUEST_EVENTS = [
  'read', // audit.reads: metadata — one record per read, after it answered
  'refused', // refused before a decision (the apiserver would not decode its body)
  'blocked', // decided and refused: policy deny, freeze, fail closed, override missing, dry run first
  'held', // waiting for approval
  'approved', // one approval accepted
  'rejected', // an approver rejected it, or an approval token was refused
  'revoked', // approvals withdrawn
  'cancelled', // displaced or frozen while pending
  'expired', // nobody approved or rejected it in time
  'forwarded', // the write-ahead record: durable before a byte goes upstream
  'executed', // the upstream answered 2xx (101 for a stream)
  'failed', // the upstream refused it, or the outcome is unknown
  'rolled_back', // on the original request, once its rollback executed
  'validated', // the rollout check saw the workload settle
  'validation_failed', // … or not, with the rollback command
  'interrupted', // forwarded before a crash, outcome never recorded
  'session_closed', // an exec/attach session ended (audit.sessions: record): its recording's hash, size, exit
] as const;
export type RequestEvent = (typeof REQUEST_EVENTS)[number];

/** Which events count as which decision outcome in the metrics. */
const OUTCOME_OF: Partial<Record<RequestEvent, Outcome>> = {
  forwarded: 'forwarded',
  held: 'held',
  blocked: 'blocked',
  rejected: 'rejected',
  refused: 'refused',
};

const issuer = Symbol('receipt');

/**
 * Proof that a request may go upstream: a durable `forwarded` record (write-ahead), or for a
 * LOW read the decision that it needs none. Only this module can make one, and the forwarder
 * takes one as its first argument, so nothing reaches the upstream undecided.
 */
export class Receipt {
  constructor(
    token: symbol,
    readonly requestId: string,
    readonly kind: 'write-ahead' | 'read',
  ) {
    if (token !== issuer) throw new Error('a Receipt is issued by the audit stage only');
  }
}

/** The one writer of request events: every record carries the request's facts. */
export class RequestAudit {
  constructor(
    private readonly log: AuditLog,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly opts: { approvalDisabled: boolean; reads: 'none' | 'metadata' },
  ) {}

  /** A durable record; when the log cannot write, nothing is forwarded (fail closed: 503). */
  async record(facts: RequestFacts, event: RequestEvent, extra: Record<string, unknown> = {}): Promise<void> {
    await this.durable(facts, event, extra, 'now');
  }

  /**
   * The outcome of a change whose answer already went out: durable before this resolves, but it
   * starts no fsync of its own; it rides the next group commit (the next write-ahead record's, or
   * the writer's timer). A crash before that commit leaves the write-ahead record without an
   * outcome, which the next start marks `interrupted` (src/audit/interrupted.ts).
   */
  async outcome(
    facts: RequestFacts,
    event: 'executed' | 'failed',
    extra: Record<string, unknown>,
  ): Promise<void> {
    // what the policy saw is on this request's decision record already (`policy replay` reads
    // it there): the outcome does not repeat it (half its bytes, encoding and hashing)
    const { policy_input: _, ...rest } = facts;
    await this.durable(rest, event, extra, 'next');
  }

  private async durable(
    facts: RequestFacts,
    event: RequestEvent,
    extra: Record<string, unknown>,
    commit: Commit,
  ): Promise<void> {
    try {
      const elapsed = stopwatch();
      await this.log.write(this.input(facts, event, extra), { commit });
      // the append latency metric is the write-ahead kind's (a rider waits for a commit by design)
      if (commit === 'now') this.metrics.auditAppend(elapsed());
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'audit log unavailable: refusing');
      throw new StatusError(
        503,
        'ServiceUnavailable',
        'kubegate cannot write its audit log, so it forwards no changes right now',
      );
    }
    const outcome = OUTCOME_OF[event];
    if (outcome && facts.risk) this.metrics.decision(facts.risk, outcome, facts.cluster);
  }

  /** The write-ahead record: durable before the request goes upstream. */
  async writeAhead(ctx: RequestContext, extra: Record<string, unknown> = {}): Promise<Receipt> {
    await this.record(ctx.facts, 'forwarded', {
      status: 'pending',
      ...(ctx.approved?.approvers ? { approvers: ctx.approved.approvers } : {}),
      ...(ctx.kr.dryRun ? { dry_run: true } : {}),
      body: ctx.body?.object ?? null,
      ...extra,
    });
    return new Receipt(issuer, ctx.facts.request_id, 'write-ahead');
  }

  /** A read decided LOW needs no write-ahead record; `audit.reads: metadata` records it after. */
  passRead(ctx: RequestContext): Receipt {
    if (ctx.kr.mutating) throw new Error('passRead is for reads only');
    return new Receipt(issuer, ctx.facts.request_id, 'read');
  }

  /**
   * Appends without waiting (reads, rollout checks): a failure is logged, the answer already went
   * out. The record rides the next group commit.
   */
  later(facts: RequestFacts, event: RequestEvent, extra: Record<string, unknown> = {}): void {
    if (event === 'read' && this.opts.reads === 'none') return;
    this.log
      .write(this.input(facts, event, extra), { commit: 'next' })
      .catch((err: Error) =>
        this.logger.error({ err: err.message, request_id: facts.request_id, event }, 'cannot record'),
      );
  }

  private input(facts: RequestFacts, event: RequestEvent, extra: Record<string, unknown>): AuditInput {
    return {
      ...(this.opts.approvalDisabled && event !== 'read' ? { approval_disabled: true } : {}),
      ...facts,
      event,
      ...slimRecord(extra),
    };
  }
}
