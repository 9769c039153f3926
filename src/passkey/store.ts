import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One registered passkey: whose it is, its COSE public key (base64url) and its sign counter. */
export interface PasskeyCredential {
  id: string;
  approver: string;
  public_key: string;
  counter: number;
  transports?: string[];
  enrolled_at: string;
}

/** The passkeys file that sits beside the approvers JWKS file (kubegate writes it). */
export function passkeysFileFor(jwksFile: string): string {
  return path.join(path.dirname(jwksFile), 'passkeys.json');
}

/**
 * The approvers' passkeys: read once, written whole (temp + rename) on each enrolment and sign
 * counter change. Every enrolment is also in the audit log, which is what `audit verify` reads.
 */
export class PasskeyStore {
  private creds: PasskeyCredential[];

  constructor(private readonly file: string) {
    this.creds = existsSync(file)
      ? ((JSON.parse(readFileSync(file, 'utf8')) as { credentials?: PasskeyCredential[] }).credentials ?? [])
      : [];
  }

  of(approver: string): PasskeyCredential[] {
    return this.creds.filter((c) => c.approver === approver);
  }

  get(id: string): PasskeyCredential | undefined {
    return this.creds.find((c) => c.id === id);
  }

  add(c: PasskeyCredential): void {
    if (this.get(c.id)) throw new Error('this passkey is already registered');
    this.creds.push(c);
    this.save();
  }

  setCounter(id: string, counter: number): void {
    const c = this.get(id);
    if (!c) return;
    c.counter = counter;
    this.save();
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ credentials: this.creds }, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
