import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditInput } from '../../../src/audit/types.js';
import { Enroller } from '../../../src/console/enrol.js';
import { PasskeyStore } from '../../../src/passkey/store.js';

const rp = { origin: 'https://localhost:8443', rpId: 'localhost' };
const key = { id: 'cred-1', publicKey: 'pk', counter: 0 };

describe('enrolling a passkey (F4)', () => {
  it('records the enrolment, then registers it', async () => {
    const records: AuditInput[] = [];
    const store = new PasskeyStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'en-')), 'passkeys.json'));
    await new Enroller({ append: async (r) => records.push(r) }, store).enrol(rp, 'alice', 'link', key);
    expect(records).toMatchObject([
      { event: 'passkey_enrolled', approver: 'alice', credential_id: 'cred-1' },
    ]);
    expect(store.get('cred-1')?.approver).toBe('alice');
  });

  it('refuses a credential id already registered, or being registered, before anything is on record', async () => {
    const records: AuditInput[] = [];
    const store = new PasskeyStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'en-')), 'passkeys.json'));
    let release = () => {};
    const slow = new Promise<void>((r) => {
      release = r;
    });
    const e = new Enroller(
      {
        append: async (r) => {
          records.push(r);
          await slow;
        },
      },
      store,
    );
    const first = e.enrol(rp, 'alice', 'link', key);
    await expect(e.enrol(rp, 'mallory', 'link-2', key)).rejects.toThrow(/already registered/);
    release();
    await first;
    await expect(e.enrol(rp, 'mallory', 'link-3', key)).rejects.toThrow(/already registered/);
    expect(records.map((r) => r.approver)).toEqual(['alice']);
    expect(store.get('cred-1')?.approver).toBe('alice');
  });
});
