import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { challengeOf, type PasskeyEvidence } from './claims.js';
import { verifyAssertion } from './webauthn.js';

/** The audit event that registers a passkey (its public key, for offline checks). */
export const ENROLLED_EVENT = 'passkey_enrolled';

interface Enrolled {
  approver: string;
  public_key: string;
  origin: string;
  rp_id: string;
}

/**
 * `kubegate audit verify`'s passkey check: every record that carries a passkey assertion must
 * verify against a passkey enrolled earlier in the same log, sign the claims it carries (the
 * challenge is their hash), and those claims must be the record's own approver and request. A
 * record made in the console (`via: console`) must carry one; a credential id is enrolled once.
 */
export class PasskeyAuditCheck {
  private readonly enrolled = new Map<string, Enrolled>();
  checked = 0;

  async check(r: Record<string, unknown>): Promise<string | undefined> {
    if (r.event === ENROLLED_EVENT) {
      const { credential_id: id, approver, public_key, origin, rp_id } = r;
      if (typeof id !== 'string' || typeof approver !== 'string' || typeof public_key !== 'string')
        return 'malformed passkey enrolment';
      // kubegate refuses a second enrolment of a credential id: one in the log would hand it to another approver
      const first = this.enrolled.get(id);
      if (first && first.approver !== approver)
        return `passkey ${id} enrolled again for ${approver}, already enrolled by ${first.approver}`;
      this.enrolled.set(id, { approver, public_key, origin: String(origin), rp_id: String(rp_id) });
      return undefined;
    }
    if (r.passkey === undefined)
      return r.via === 'console'
        ? `a console ${String(r.event)} record without its passkey assertion`
        : undefined;
    const bad = await this.assertion(r, r.passkey as PasskeyEvidence);
    if (!bad) this.checked++;
    return bad && `passkey assertion: ${bad}`;
  }

  private async assertion(r: Record<string, unknown>, e: PasskeyEvidence): Promise<string | undefined> {
    const cred = this.enrolled.get(e?.credential_id);
    if (!cred) return `credential ${e?.credential_id} was never enrolled in this log`;
    const c = e.claims;
    if (c?.sub !== r.approver || cred.approver !== r.approver)
      return `signed by ${cred.approver} for ${c?.sub}, recorded as ${String(r.approver)}`;
    const bad = claimsMismatch(r, e);
    if (bad) return bad;
    const response: AuthenticationResponseJSON = {
      id: e.credential_id,
      rawId: e.credential_id,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        authenticatorData: e.authenticator_data,
        clientDataJSON: e.client_data_json,
        signature: e.signature,
      },
    };
    try {
      // counter 0: the order of counters is checked live; offline, the signature is what matters
      await verifyAssertion({ origin: cred.origin, rpId: cred.rp_id }, response, challengeOf(c), {
        id: e.credential_id,
        public_key: cred.public_key,
        counter: 0,
      });
    } catch (err) {
      return (err as Error).message;
    }
    return undefined;
  }
}

/** The signed claims must be about this record: its request (or fingerprint) and its action. */
function claimsMismatch(r: Record<string, unknown>, e: PasskeyEvidence): string | undefined {
  const c = e.claims;
  const want: Record<string, string> = {
    approved: 'approve',
    rejected: 'reject',
    revoked: 'revoke',
    freeze: 'freeze',
    unfreeze: 'freeze',
  };
  if (want[String(r.event)] !== c.action) return `a ${c.action} assertion on a ${String(r.event)} record`;
  if (c.action === 'approve' && !c.fingerprints?.includes(String(r.fingerprint)))
    return 'the signed claims name another fingerprint';
  if ((c.action === 'reject' || c.action === 'revoke') && !c.requestIds?.includes(String(r.request_id)))
    return 'the signed claims name another request';
  return undefined;
}
