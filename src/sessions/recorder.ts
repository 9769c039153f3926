import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Transform } from 'node:stream';
import type { Logger } from 'pino';
import type { RequestAudit } from '../chain/audit.js';
import type { RequestContext } from '../chain/context.js';
import { StatusError } from '../kube/status.js';
import { CastWriter } from './cast.js';
import { RECORDABLE_PROTOCOLS, SessionTap } from './tap.js';

/** One exec/attach session being recorded. */
export interface Recording {
  /** Opens the cast file for the protocol the upstream chose; throws when it cannot be recorded. */
  start(protocol: string | undefined): { toClient: Transform; toServer: Transform };
  /**
   * Closes the file and appends the chained record that closes the session (once). `error` fails
   * the session; `teardown` (a socket's error) fails it only before its exit status came: after
   * it, the client hanging up while the last frames go out is how a finished command ends.
   */
  finish(error?: string, teardown?: string): void;
}

export interface SessionRecorderOptions {
  /** Where cast files go: `sessions/` beside the audit log. */
  dir: string;
  maxBytes: number;
  audit: RequestAudit;
  logger: Logger;
}

/** Attempts of one held request that get a recording each (its approval given back each time). */
const MAX_ATTEMPTS = 100;

/** The subresources whose sessions are recorded (a terminal); port-forward carries no terminal. */
const RECORDED = new Set(['exec', 'attach']);

/**
 * `audit.sessions: record`: every exec/attach session kubegate lets through is written as an
 * asciicast v2 file beside the audit log, and the record that closes the session holds its
 * sha256, size, duration and exit status. A session that cannot be recorded is not opened.
 */
export class SessionRecorder {
  constructor(private readonly opts: SessionRecorderOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  /** The recording this upgrade needs, if any; a StatusError when it needs one it cannot have. */
  forRequest(ctx: RequestContext): Recording | undefined {
    if (ctx.kr.resource !== 'pods' || !RECORDED.has(ctx.kr.subresource)) return undefined;
    if (String(ctx.headers.upgrade ?? '').toLowerCase() !== 'websocket')
      throw new StatusError(
        400,
        'BadRequest',
        'kubegate records exec and attach sessions and can only do so over WebSocket (v5.channel.k8s.io); this client asked for SPDY',
      );
    return this.recording(ctx);
  }

  /** Opens the cast file before anything goes upstream: a session it cannot record never starts. */
  private recording(ctx: RequestContext): Recording {
    const { request_id } = ctx.facts;
    let rel: string;
    let cast: CastWriter;
    try {
      ({ rel, cast } = this.newCast(ctx));
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message, request_id }, 'cannot record a session');
      throw new StatusError(
        503,
        'ServiceUnavailable',
        'kubegate cannot record this session right now, so it does not open it',
      );
    }
    let tap: SessionTap | undefined;
    let done = false;
    return {
      start: (protocol) => {
        if (!protocol || !RECORDABLE_PROTOCOLS.has(protocol))
          throw new Error(`cannot record the ${protocol ?? 'unnamed'} protocol`);
        tap = new SessionTap(cast);
        return { toClient: tap.toClient(), toServer: tap.toServer() };
      },
      finish: (error, teardown) => {
        if (done) return;
        done = true;
        this.closed(ctx, rel, cast, tap, error, teardown);
      },
    };
  }

  /**
   * A new cast file for this attempt: `<request id>.cast`, or `<request id>-N.cast` when an earlier
   * attempt of the same held request (one the upstream refused, its approval given back) left one.
   * Never an existing file: a recording is not overwritten.
   */
  private newCast(ctx: RequestContext): { rel: string; cast: CastWriter } {
    const { request_id } = ctx.facts;
    const header = { width: 80, height: 24, timestamp: Math.floor(Date.now() / 1000) };
    const meta = { ...header, title: request_id, command: commandOf(ctx) };
    for (let attempt = 1; ; attempt++) {
      const name = attempt === 1 ? `${request_id}.cast` : `${request_id}-${attempt}.cast`;
      try {
        const cast = new CastWriter(path.join(this.opts.dir, name), meta, this.opts.maxBytes);
        return { rel: path.join('sessions', name), cast };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private closed(
    ctx: RequestContext,
    rel: string,
    cast?: CastWriter,
    tap?: SessionTap,
    recordingError?: string,
    teardown?: string,
  ): void {
    let extra: Record<string, unknown>;
    try {
      const duration_seconds = cast?.elapsed() ?? 0;
      const summary = cast?.close();
      const exit = tap?.exitStatus();
      const error = recordingError ?? (exit === undefined ? teardown : undefined);
      extra = {
        status: error || summary?.truncated ? 'failed' : 'success',
        duration_seconds,
        ...(exit !== undefined ? { exit_status: exit } : {}),
        ...(summary ? { recording: { file: rel, ...summary } } : {}),
        ...(error ? { error } : {}),
        ...(teardown && !error ? { teardown } : {}),
      };
    } catch (err) {
      extra = { status: 'failed', error: `recording could not be closed: ${(err as Error).message}` };
    }
    this.opts.audit.later(ctx.facts, 'session_closed', extra);
  }
}

/** `kubectl exec POD -- a b` asks for command=a&command=b. */
function commandOf(ctx: RequestContext): string {
  return new URLSearchParams(ctx.kr.search).getAll('command').join(' ');
}
