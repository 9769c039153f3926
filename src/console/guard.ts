import type { NextFunction, Request, Response } from 'express';
import { fail, type Handler, route } from '../api/app.js';
import { StatusError } from '../kube/status.js';
import { PasskeyError } from '../passkey/webauthn.js';
import type { ConsoleDeps } from './deps.js';
import { RefusalLog } from './refusals.js';
import { type Session, type Sessions, sameOrigin } from './session.js';

const refusalLogs = new WeakMap<ConsoleDeps, RefusalLog>();

/** The console's one rate-limited record of refusals. */
export function refusalsOf(deps: ConsoleDeps): RefusalLog {
  let r = refusalLogs.get(deps);
  if (!r) {
    r = new RefusalLog(deps.log, deps.metrics);
    refusalLogs.set(deps, r);
  }
  return r;
}

/** Where a console call came from, for the per-source limit of refusal records. */
export const sourceOf = (req: Request) => req.socket.remoteAddress ?? 'unknown';

/** A console handler: passkey refusals are 401, counted and on record (rate-limited); the rest as the approvals API maps them. */
export function consoleRoute(deps: ConsoleDeps, h: Handler) {
  const inner = route(deps.log, h);
  return (req: Request, res: Response, next: NextFunction): void =>
    inner(req, res, (err?: unknown) => {
      if (!(err instanceof PasskeyError)) return next(err);
      void refusalsOf(deps)
        .refused(sourceOf(req), {
          event: 'console_refused',
          status: 'refused',
          message: err.message,
          path: req.path,
        })
        .catch(() => undefined);
      fail(res, 401, 'Unauthorized', err.message);
    });
}

/** The signed-in approver, or 401: reading needs a session. */
export function signedIn(sessions: Sessions, req: Request): Session {
  const s = sessions.of(req);
  if (!s) throw new StatusError(401, 'Unauthorized', 'sign in with your passkey first');
  return s;
}

/** A state-changing call: same origin, the console's header, JSON (CSRF); the session is checked by the caller. */
export function fromConsole(deps: ConsoleDeps, req: Request): void {
  if (!sameOrigin(req, deps.console.rp().origin))
    throw new StatusError(403, 'Forbidden', 'console calls must come from the console page itself');
}
