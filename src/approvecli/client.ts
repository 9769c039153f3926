import { type ApprovalClaims, signApproval } from '../wire/approval-token.js';
import type { ApproverKeyFile } from '../wire/approver-key.js';
import type { PlanView } from '../wire/plan-view.js';
import type { Preview } from '../wire/preview.js';
import { ApiStatusError, CliError } from './errors.js';
import { readEvents, type SseEvent } from './sse.js';
import type { Transport } from './transport.js';
import {
  asFreeze,
  asPendingList,
  asPendingView,
  asPlanView,
  asPreview,
  type FreezeState,
  type PendingList,
  type PendingView,
} from './types.js';

/** Read tokens live one minute: long enough for one call, too short to be worth stealing. */
export const READ_TTL_SECONDS = 60;
/** Reject/revoke/freeze tokens are used at once. */
export const ACTION_TTL_SECONDS = 60;

/** Signs approve-cli's tokens with the approver's key for one kubegate (the audience). */
export interface Signer {
  approver: string;
  /** `clusters`: the clusters of the requests an approval is for, added to the audience. */
  sign(claims: ApprovalClaims, ttlSeconds: number, clusters?: string[]): Promise<string>;
}

/**
 * An approval carries signedAt (ms) so kubegate can tell it from a reject or revoke in the same
 * second. It is read from the clock that sets `iat`, right before signing: kubegate refuses a
 * signedAt more than a second from iat.
 */
export function keySigner(key: ApproverKeyFile, audience: string): Signer {
  const stamped = (c: ApprovalClaims): ApprovalClaims =>
    c.action === 'approve' ? { ...c, signedAt: Date.now() } : c;
  return {
    approver: key.name,
    sign: (claims, ttl, clusters = []) => {
      const aud = [...new Set([audience, ...clusters])];
      return signApproval(key, aud.length === 1 ? audience : aud, stamped(claims), ttl);
    },
  };
}

/** A non-2xx answer as one readable error: a Status's message, else the HTTP code and text. */
function statusError(status: number, body: unknown): ApiStatusError {
  if (body && typeof body === 'object' && (body as { kind?: unknown }).kind === 'Status') {
    const s = body as { message?: unknown; reason?: unknown; code?: unknown };
    const message = typeof s.message === 'string' && s.message ? s.message : `HTTP ${status}`;
    return new ApiStatusError(
      typeof s.code === 'number' ? s.code : status,
      typeof s.reason === 'string' ? s.reason : '',
      message,
    );
  }
  const text = typeof body === 'string' ? body.trim().slice(0, 200) : '';
  return new ApiStatusError(status, '', `kubegate answered HTTP ${status}${text ? `: ${text}` : ''}`);
}

/** The body of a refused stream, parsed as JSON when it is (a Status), for statusError. */
async function errorBody(body: AsyncIterable<Buffer | string>): Promise<unknown> {
  let text = '';
  for await (const c of body) {
    text += typeof c === 'string' ? c : c.toString('utf8');
    if (text.length > 64 * 1024) break;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** kubegate's approval API (src/api.ts), one method per endpoint. */
export interface RollbackProposal {
  id: string;
  rollback_of: string;
  risk: string;
  reasons: string[];
  approvals_required: number;
  override_required: boolean;
  steps: string[];
  effect: string;
}

export class KubegateClient {
  constructor(
    private readonly transport: Transport,
    private readonly signer: Signer,
  ) {}

  private async send(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<unknown> {
    const res = await this.transport.request(method, path, headers, body);
    if (res.status < 200 || res.status >= 300) throw statusError(res.status, res.body);
    return res.body;
  }

  /** GET with a short read token in the Authorization header. */
  private async read(path: string): Promise<unknown> {
    const token = await this.signer.sign({ action: 'read' }, READ_TTL_SECONDS);
    return this.send('GET', path, { authorization: `Bearer ${token}` });
  }

  /** POST of a single-use action token in the body. */
  private async act(path: string, token: string): Promise<unknown> {
    return this.send('POST', path, {}, { token });
  }

  /**
   * Opens GET /kubegate/v1/watch with a fresh read token: the events until the stream ends (when
   * the token expires, kubegate sends `expired` and closes it) or `signal` aborts.
   */
  async watch(signal: AbortSignal): Promise<AsyncGenerator<SseEvent>> {
    if (!this.transport.stream) throw new CliError('this connection to kubegate cannot stream (watch)');
    const token = await this.signer.sign({ action: 'read' }, READ_TTL_SECONDS);
    const res = await this.transport.stream(
      '/kubegate/v1/watch',
      { authorization: `Bearer ${token}` },
      signal,
    );
    if (res.status < 200 || res.status >= 300) throw statusError(res.status, await errorBody(res.body));
    return readEvents(res.body);
  }

  async list(): Promise<PendingList> {
    return asPendingList(await this.read('/kubegate/v1/requests'));
  }

  async get(id: string): Promise<PendingView> {
    return asPendingView(await this.read(`/kubegate/v1/requests/${encodeURIComponent(id)}`));
  }

  /** The apiserver's view of a held request: its dry run, the live subresource, a Namespace's contents. */
  async dryRun(id: string): Promise<Preview> {
    return asPreview(await this.read(`/kubegate/v1/requests/${encodeURIComponent(id)}/dryrun`));
  }

  async approve(token: string): Promise<{ approved: string[]; approver: string }> {
    return (await this.act('/kubegate/v1/approvals', token)) as { approved: string[]; approver: string };
  }

  async reject(id: string, reason: string): Promise<void> {
    const token = await this.signer.sign({ action: 'reject', requestIds: [id], reason }, ACTION_TTL_SECONDS);
    await this.act(`/kubegate/v1/requests/${encodeURIComponent(id)}/reject`, token);
  }

  async revoke(id: string): Promise<{ revoked: number }> {
    const token = await this.signer.sign({ action: 'revoke', requestIds: [id] }, ACTION_TTL_SECONDS);
    const r = (await this.act(`/kubegate/v1/requests/${encodeURIComponent(id)}/revoke`, token)) as {
      revoked?: unknown;
    };
    return { revoked: typeof r?.revoked === 'number' ? r.revoked : 0 };
  }

  /** Asks kubegate to build the undo of an executed change; it comes back as a new pending request. */
  async rollback(id: string): Promise<RollbackProposal> {
    const token = await this.signer.sign({ action: 'rollback', requestIds: [id] }, ACTION_TTL_SECONDS);
    return (await this.act(
      `/kubegate/v1/requests/${encodeURIComponent(id)}/rollback`,
      token,
    )) as RollbackProposal;
  }

  async listPlans(): Promise<PlanView[]> {
    const r = (await this.read('/kubegate/v1/plans')) as { items?: unknown };
    return Array.isArray(r?.items) ? (r.items as PlanView[]) : [];
  }

  async getPlan(id: string): Promise<PlanView & { needs?: string }> {
    return asPlanView(await this.read(`/kubegate/v1/plans/${encodeURIComponent(id)}`));
  }

  /** approve / reject / stop / rollback of a plan: the token goes in the body, the plan comes back. */
  async planAction(id: string, action: 'approve' | 'reject' | 'rollback', token: string): Promise<PlanView> {
    return asPlanView(await this.act(`/kubegate/v1/plans/${encodeURIComponent(id)}/${action}`, token));
  }

  async setFreeze(on: boolean, reason?: string): Promise<{ cancelled: number }> {
    const claims: ApprovalClaims = {
      action: 'freeze',
      freeze: on,
      ...(reason !== undefined ? { reason } : {}),
    };
    const token = await this.signer.sign(claims, ACTION_TTL_SECONDS);
    const r = (await this.act('/kubegate/v1/freeze', token)) as { cancelled?: unknown };
    return { cancelled: typeof r?.cancelled === 'number' ? r.cancelled : 0 };
  }

  async freezeStatus(): Promise<FreezeState> {
    return asFreeze(await this.read('/kubegate/v1/freeze'));
  }
}
