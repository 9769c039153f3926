// kubegate's own Ed25519 audit key: it signs checkpoints; auditors verify with the public half.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { auditKeyId } from './chain.js';
import { AuditKeyError } from './errors.js';

export const AUDIT_KEY_FILE = 'audit-key.pem';
export const AUDIT_PUBLIC_KEY_FILE = 'audit-key.pub.pem';

export interface GeneratedAuditKey {
  privateKeyPath: string;
  publicKeyPath: string;
  keyId: string;
}

/** Writes DIR/audit-key.pem (PKCS#8, mode 0600) and DIR/audit-key.pub.pem; never overwrites a key. */
export async function generateAuditKey(dir: string): Promise<GeneratedAuditKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateKeyPath = join(dir, AUDIT_KEY_FILE);
  const publicKeyPath = join(dir, AUDIT_PUBLIC_KEY_FILE);
  await mkdir(dir, { recursive: true });
  try {
    // 'wx': replacing an existing audit key would orphan every checkpoint it signed.
    await writeFile(privateKeyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      flag: 'wx',
      mode: 0o600,
    });
    await writeFile(publicKeyPath, publicKey.export({ type: 'spki', format: 'pem' }), {
      flag: 'wx',
      mode: 0o644,
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new AuditKeyError(`audit key already exists in ${dir}; refusing to overwrite it`);
    }
    throw err;
  }
  return { privateKeyPath, publicKeyPath, keyId: auditKeyId(publicKey) };
}

/** Loads a PEM audit key: a private key file gives the private KeyObject, a public one the public. */
export async function loadAuditKey(path: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new AuditKeyError(`cannot read audit key ${path}: ${(err as Error).message}`, { cause: err });
  }
  let key: KeyObject;
  try {
    key = pem.includes('PRIVATE KEY') ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (err) {
    throw new AuditKeyError(`${path} is not a PEM key: ${(err as Error).message}`, { cause: err });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyError(
      `${path} is a ${key.asymmetricKeyType ?? 'unknown'} key; the audit key must be Ed25519`,
    );
  }
  return key;
}

/** Loads the public half, whichever half the file holds (verify only needs the public key). */
export async function loadAuditPublicKey(path: string): Promise<KeyObject> {
  const key = await loadAuditKey(path);
  return key.type === 'private' ? createPublicKey(key) : key;
}
