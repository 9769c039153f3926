import type express from 'express';
import type { Request, Response } from 'express';
import { fail } from '../api/app.js';
import { StatusError } from '../kube/status.js';
import { assertionOptions, PasskeyError, verifyAssertion } from '../passkey/webauthn.js';
import type { ConsoleDeps } from './deps.js';
import { consoleRoute, fromConsole, refusalsOf, sourceOf } from './guard.js';
import type { Sessions } from './session.js';
import { SignInChallenges } from './signin-challenge.js';

/**
 * Sign-in: a passkey assertion over a stateless challenge (the ticket is the challenge). Every
 * sign-in is on record; failed ones are counted and on record at a bounded rate per source.
 */
export function signInRoutes(app: express.Express, deps: ConsoleDeps, sessions: Sessions): void {
  const challenges = new SignInChallenges();
  app.post(
    '/kubegate/ui/api/signin/options',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const challenge = challenges.issue();
      const options = await assertionOptions(deps.console.rp(), challenge, undefined);
      res.json({ ticket: challenge, options });
    }),
  );
  app.post(
    '/kubegate/ui/api/signin/finish',
    consoleRoute(deps, async (req, res) => {
      const credentialId = String(req.body?.response?.id ?? '');
      try {
        fromConsole(deps, req);
        const approver = await signIn(deps, challenges, req);
        sessions.open(res, approver, credentialId);
        await deps.log.append({
          event: 'console_sign_in',
          approver,
          status: 'ok',
          credential_id: credentialId,
        });
        res.json({ approver });
      } catch (err) {
        await refusedSignIn(deps, req, res, credentialId, err as Error);
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

/** One failed sign-in: counted, on record while its source is under the limit, answered once. */
async function refusedSignIn(
  deps: ConsoleDeps,
  req: Request,
  res: Response,
  credentialId: string,
  err: Error,
) {
  const who = deps.console.passkeys.get(credentialId)?.approver;
  await refusalsOf(deps).refused(sourceOf(req), {
    event: 'console_sign_in_failed',
    status: 'refused',
    message: err.message.slice(0, 500),
    ...(who ? { approver: who } : {}),
    ...(credentialId ? { credential_id: credentialId.slice(0, 200) } : {}),
  });
  // a call from another origin stays 403 (now on record too); every other failure is a 401
  if (err instanceof StatusError && err.code === 403) throw err;
  fail(res, 401, 'Unauthorized', err instanceof PasskeyError ? err.message : 'sign-in refused');
}

/** Only a registered passkey of a current approver, with user verification, signs in, once per challenge. */
async function signIn(deps: ConsoleDeps, challenges: SignInChallenges, req: Request): Promise<string> {
  const challenge = req.body?.ticket;
  const refusal = challenges.refusal(challenge);
  if (refusal) throw new PasskeyError(refusal);
  const cred = deps.console.passkeys.get(String(req.body?.response?.id));
  if (!cred) throw new PasskeyError('this passkey is not registered with kubegate');
  if (!deps.console.jwks().keys.some((k) => k.name === cred.approver))
    throw new PasskeyError(`${cred.approver} is no longer an approver`);
  const counter = await verifyAssertion(deps.console.rp(), req.body.response, String(challenge), cred);
  if (!challenges.use(String(challenge))) throw new PasskeyError('this sign-in was already used');
  deps.console.passkeys.setCounter(cred.id, counter);
  return cred.approver;
}
