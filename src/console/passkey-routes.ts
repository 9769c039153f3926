import type express from 'express';
import { ENROLLED_EVENT } from '../passkey/offline.js';
import { PasskeyError, registrationOptions, verifyRegistration } from '../passkey/webauthn.js';
import { verifyEnrolment } from '../wire/enrol-link.js';
import type { ConsoleDeps } from './deps.js';
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
      const enrolled_at = new Date().toISOString();
      // refused before anything is on record: a second enrolment of one credential id would
      // otherwise land in the log and give that credential to another approver offline
      if (passkeys.get(c.id)) throw new PasskeyError('this passkey is already registered');
      // on record before it is usable: `audit verify` checks later assertions against this public key
      await deps.log.append({
        event: ENROLLED_EVENT,
        approver: t.data.approver,
        status: 'enrolled',
        credential_id: c.id,
        public_key: c.publicKey,
        origin: rp.origin,
        rp_id: rp.rpId,
        link: t.data.link,
      });
      passkeys.add({
        id: c.id,
        approver: t.data.approver,
        public_key: c.publicKey,
        counter: c.counter,
        ...(c.transports ? { transports: c.transports } : {}),
        enrolled_at,
      });
      res.status(201).json({ approver: t.data.approver, credential_id: c.id });
    }),
  );
  signInRoutes(app, deps, sessions);
}
