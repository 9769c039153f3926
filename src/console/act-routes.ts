import type express from 'express';
import { approveAndRun } from '../api/actions.js';
import { proposeRollbackBy } from '../api/rollbacks.js';
import type { PasskeyApproval } from '../passkey/approval.js';
import { verifyPasskeyApproval } from '../passkey/approval.js';
import { challengeOf, type PasskeyClaims } from '../passkey/claims.js';
import { assertionOptions, PasskeyError } from '../passkey/webauthn.js';
import { claimsFor } from './claims.js';
import type { ConsoleDeps } from './deps.js';
import { consoleRoute, fromConsole, signedIn } from './guard.js';
import type { Sessions } from './session.js';
import { Tickets } from './tickets.js';

/**
 * Every action is two calls: `challenge` builds the claims from kubegate's state and returns
 * them with WebAuthn options whose challenge is their hash; `act` takes the assertion, checks it
 * signs exactly those claims with the approver's passkey, and hands the approval to the same
 * ApprovalService as a token. The session only says who may ask; it approves nothing.
 */
export function actRoutes(app: express.Express, deps: ConsoleDeps, sessions: Sessions): void {
  const pending = new Tickets<PasskeyClaims>();
  app.post(
    '/kubegate/ui/api/challenge',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const s = signedIn(sessions, req);
      const claims = await claimsFor(deps, s.approver, req.body ?? {});
      const challenge = challengeOf(claims);
      const options = await assertionOptions(
        deps.console.rp(),
        challenge,
        deps.console.passkeys.of(s.approver),
      );
      res.json({ ticket: pending.put(challenge, claims), claims, options });
    }),
  );
  app.post(
    '/kubegate/ui/api/act',
    consoleRoute(deps, async (req, res) => {
      fromConsole(deps, req);
      const s = signedIn(sessions, req);
      const t = pending.take(req.body?.ticket);
      if (!t) throw new PasskeyError('this passkey challenge was already used or has expired');
      if (t.data.sub !== s.approver) throw new PasskeyError('this challenge was made for another approver');
      if (!req.body?.response) throw new PasskeyError('an action needs your passkey');
      const approval = await verifyPasskeyApproval(
        deps.console.rp(),
        deps.console.passkeys,
        t.data,
        req.body.response,
      );
      res.json(await perform(deps, approval, t.data));
    }),
  );
}

async function perform(deps: ConsoleDeps, a: PasskeyApproval, c: PasskeyClaims): Promise<unknown> {
  const id = c.requestIds?.[0] ?? '';
  switch (c.action) {
    case 'approve':
      return approveAndRun(deps, a);
    case 'reject':
      await deps.approvals.reject(a, id);
      return { rejected: id };
    case 'revoke':
      return { request: id, revoked: await deps.approvals.revoke(a, id) };
    case 'rollback':
      return proposeRollbackBy(deps, a, id);
    case 'freeze':
      return deps.approvals.freeze(a);
    default:
      throw new PasskeyError('unknown action');
  }
}
