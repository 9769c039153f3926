import { randomBytes } from 'node:crypto';
import type express from 'express';
import type { Request } from 'express';
import { ENROLLED_EVENT } from '../passkey/offline.js';
import {
  assertionOptions,
  PasskeyError,
  registrationOptions,
  verifyAssertion,
  verifyRegistration,
} from '../passkey/webauthn.js';
import { verifyEnrolment } from '../wire/enrol-link.js';
import type { ConsoleDeps } from './deps.js';
import { consoleRoute, fromConsole } from './guard.js';
import type { Sessions } from './session.js';
import { Tickets } from './tickets.js';

/**
 * Enrolment (a one-time link signed with the approver's key, then a new passkey) and sign-in
 * (a passkey assertion over a fresh challenge). Every sign-in and failed sign-in is on record.
 */
export function passkeyRoutes(app: express.Express, deps: ConsoleDeps, sessions: Sessions): void {
  const enrolments = new Tickets<{ approver: string; link: string; jti: string }>();
  const signIns = new Tickets<null>();
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
      // on record first: `audit verify` checks later assertions against this public key
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
  signInRoutes(app, deps, sessions, signIns);
}

function signInRoutes(app: express.Express, deps: ConsoleDeps, sessions: Sessions, signIns: Tickets<null>) {
  const { passkeys } = deps.console;
  app.post(
    '/kubegate/ui/api/signin/options',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const challenge = randomBytes(32).toString('base64url');
      const options = await assertionOptions(deps.console.rp(), challenge, undefined);
      res.json({ ticket: signIns.put(challenge, null), options });
    }),
  );
  app.post(
    '/kubegate/ui/api/signin/finish',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const credentialId = String(req.body?.response?.id ?? '');
      try {
        const approver = await signIn(deps, signIns, req);
        sessions.open(res, approver, credentialId);
        await deps.log.append({
          event: 'console_sign_in',
          approver,
          status: 'ok',
          credential_id: credentialId,
        });
        res.json({ approver });
      } catch (err) {
        const who = passkeys.get(credentialId)?.approver;
        await deps.log.append({
          event: 'console_sign_in_failed',
          status: 'refused',
          message: (err as Error).message,
          ...(who ? { approver: who } : {}),
          ...(credentialId ? { credential_id: credentialId.slice(0, 200) } : {}),
        });
        throw err instanceof PasskeyError ? err : new PasskeyError('sign-in refused');
      }
    }),
  );
  app.post(
    '/kubegate/ui/api/signout',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      sessions.close(req, res);
      res.json({ signed_out: true });
    }),
  );
}

/** Only a registered passkey of a current approver, with user verification, signs in. */
async function signIn(deps: ConsoleDeps, signIns: Tickets<null>, req: Request): Promise<string> {
  const t = signIns.take(req.body?.ticket);
  if (!t) throw new PasskeyError('sign-in expired: try again');
  const cred = deps.console.passkeys.get(String(req.body?.response?.id));
  if (!cred) throw new PasskeyError('this passkey is not registered with kubegate');
  if (!deps.console.jwks().keys.some((k) => k.name === cred.approver))
    throw new PasskeyError(`${cred.approver} is no longer an approver`);
  const counter = await verifyAssertion(deps.console.rp(), req.body.response, t.challenge, cred);
  deps.console.passkeys.setCounter(cred.id, counter);
  return cred.approver;
}
