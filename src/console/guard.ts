import type { NextFunction, Request, Response } from 'express';
import { fail, type Handler, route } from '../api/app.js';
import { StatusError } from '../kube/status.js';
import { PasskeyError } from '../passkey/webauthn.js';
import type { ConsoleDeps } from './deps.js';
import { type Session, type Sessions, sameOrigin } from './session.js';

/** A console handler: passkey refusals are 401 and on record; the rest as the approvals API maps them. */
export function consoleRoute(deps: ConsoleDeps, h: Handler) {
  const inner = route(deps.log, h);
  return (req: Request, res: Response, next: NextFunction): void =>
    inner(req, res, (err?: unknown) => {
      if (!(err instanceof PasskeyError)) return next(err);
      void deps.log
        .append({ event: 'console_refused', status: 'refused', message: err.message, path: req.path })
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
