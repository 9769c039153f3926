import type { ApiDeps } from '../api/app.js';
import type { PasskeyStore } from '../passkey/store.js';
import type { RelyingParty } from '../passkey/webauthn.js';
import type { ApproverJwks } from '../wire/approver-key.js';

/** What the console needs beyond the approvals API. */
export interface ConsoleOptions {
  passkeys: PasskeyStore;
  /** The console's origin and RP id (known once the listener has its port). */
  rp: () => RelyingParty;
  cluster: string;
  jwks: () => ApproverJwks;
  auditPath: string;
  maxTtlSeconds: number;
}

export type ConsoleDeps = ApiDeps & { console: ConsoleOptions };
