// The audit key files: permissions, no silent overwrite, Ed25519 only.
import { generateKeyPairSync } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { auditKeyId } from '../../../src/audit/chain.js';
import { AuditKeyError } from '../../../src/audit/errors.js';
import { generateAuditKey, loadAuditKey, loadAuditPublicKey } from '../../../src/audit/keys.js';
import { AuditLog } from '../../../src/audit/log.js';
import { records, silent, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(() => cleanup());

it('writes a 0600 private key and a public key, and refuses to overwrite them', async () => {
  const k = await generateAuditKey(dir);
  expect(k.privateKeyPath).toBe(join(dir, 'audit-key.pem'));
  expect(k.publicKeyPath).toBe(join(dir, 'audit-key.pub.pem'));
  expect((await stat(k.privateKeyPath)).mode & 0o777).toBe(0o600);
  const priv = await loadAuditKey(k.privateKeyPath);
  const pub = await loadAuditKey(k.publicKeyPath);
  expect(priv.type).toBe('private');
  expect(pub.type).toBe('public');
  expect((await loadAuditPublicKey(k.privateKeyPath)).type).toBe('public');
  expect(auditKeyId(priv)).toBe(k.keyId);
  expect(auditKeyId(pub)).toBe(k.keyId);
  await expect(generateAuditKey(dir)).rejects.toBeInstanceOf(AuditKeyError);
});

it('checkpoints carry the key id of the signing key', async () => {
  const k = await generateAuditKey(dir);
  const path = join(dir, 'log.jsonl');
  const log = await AuditLog.open({ path, signingKey: await loadAuditKey(k.privateKeyPath), logger: silent });
  await log.append({ event: 'received' });
  await log.close();
  expect((await records(path)).at(-1)).toMatchObject({ event: 'checkpoint', key_id: k.keyId });
});

it('rejects non-Ed25519 keys and missing files with AuditKeyError', async () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecPath = join(dir, 'ec.pem');
  await writeFile(ecPath, ec.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await expect(loadAuditKey(ecPath)).rejects.toBeInstanceOf(AuditKeyError);
  await expect(loadAuditKey(join(dir, 'missing.pem'))).rejects.toBeInstanceOf(AuditKeyError);
  await expect(
    AuditLog.open({ path: join(dir, 'l.jsonl'), signingKey: ec.privateKey, logger: silent }),
  ).rejects.toBeInstanceOf(AuditKeyError);
});
