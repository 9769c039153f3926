import type express from 'express';
import { PasskeyError, registrationOptions, verifyRegistration } from '../passkey/webauthn.js';
import { verifyEnrolment } from '../wire/enrol-link.js';
import type { ConsoleDeps } from './deps.js';
import { Enroller } from './enrol.js';
import { consoleRoute, fromConsole } from './guard.js';
import type { Sessions } from './session.js';
import { signInRoutes } from './signin-routes.js';
import { Tickets } from './tickets.js';

/**
 * Enrolment (a one-time link signed with the approver's key, then a new passkey) and sign-in
 * (signin-routes.ts). Every enrolment is on record.
 */
export function passkeyRoutes(app: express.Express, deps: ConsoleDeps, sessions: Sessions): void {
  const enrolments = new Tickets<{ approver: string; link: string; jti: string }>();
  const { passkeys } = deps.console;
  const enroller = new Enroller(deps.log, passkeys);
  app.post(
    '/kubegate/ui/api/enroll/options',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const link = String(req.body?.link ?? '');
      const e = await verifyEnrolment(link, deps.console.jwks(), deps.console.cluster).catch((err: Error) => {
        throw new PasskeyError(`enrolment link refused: ${err.message}`);
      });
      if (!(await deps.store.useJti(`enrol:${e.jti}`, e.exp)))
        throw new PasskeyError('enrolment link was already used');
      const options = await registrationOptions(deps.console.rp(), e.approver, passkeys.of(e.approver));
      const ticket = enrolments.put(options.challenge, { approver: e.approver, link, jti: e.jti });
      res.json({ approver: e.approver, ticket, options });
    }),
  );
  app.post(
    '/kubegate/ui/api/enroll/finish',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const t = enrolments.take(req.body?.ticket);
      if (!t) throw new PasskeyError('enrolment expired or already finished: ask for a new link');
      const rp = deps.console.rp();
      const c = await verifyRegistration(rp, req.body?.response, t.challenge);
      await enroller.enrol(rp, t.data.approver, t.data.link, c);
      res.status(201).json({ approver: t.data.approver, credential_id: c.id });
    }),
  );
  signInRoutes(app, deps, sessions);
}
