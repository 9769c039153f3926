import type { AuditInput } from '../audit/types.js';
import { ENROLLED_EVENT } from '../passkey/offline.js';
import type { PasskeyStore } from '../passkey/store.js';
import { PasskeyError, type RelyingParty } from '../passkey/webauthn.js';

export interface NewPasskey {
  id: string;
  publicKey: string;
  counter: number;
  transports?: string[];
}

/**
 * Registers a verified passkey: refused BEFORE anything is on record when its credential id is
 * registered (or being registered) already, since a second enrolment record would hand that
 * credential to another approver in `audit verify`; then on record, then usable.
 */
export class Enroller {
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly log: { append(input: AuditInput): Promise<unknown> },
    private readonly passkeys: PasskeyStore,
  ) {}

  async enrol(rp: RelyingParty, approver: string, link: string, c: NewPasskey): Promise<void> {
    if (this.passkeys.get(c.id) || this.inFlight.has(c.id))
      throw new PasskeyError('this passkey is already registered');
    this.inFlight.add(c.id);
    try {
      const enrolled_at = new Date().toISOString();
      // on record before it is usable: `audit verify` checks later assertions against this public key
      await this.log.append({
        event: ENROLLED_EVENT,
        approver,
        status: 'enrolled',
        credential_id: c.id,
        public_key: c.publicKey,
        origin: rp.origin,
        rp_id: rp.rpId,
        link,
      });
      this.passkeys.add({
        id: c.id,
        approver,
        public_key: c.publicKey,
        counter: c.counter,
        ...(c.transports ? { transports: c.transports } : {}),
        enrolled_at,
      });
    } finally {
      this.inFlight.delete(c.id);
    }
  }
}
