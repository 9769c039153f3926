// The hash chain and checkpoint signatures: the only place that defines what is hashed and signed,
// so the writer and the verifier cannot drift apart.
import { createHash, createPublicKey, hash, type KeyObject, sign, verify } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// canonicalize is CommonJS whose types declare an ESM default export: under NodeNext the default
// import is the function at runtime but typed as the module. Accept either shape.
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ??
  (canonicalizeModule as unknown as Canonicalize);

/** `prev` of the first record in a file. */
export const GENESIS_PREV = '0'.repeat(64);

/** sha256hex(prev + RFC 8785 JSON of the record without `hash`). `record.prev` must already be set. */
export function recordHash(recordWithoutHash: Record<string, unknown>): string {
  const prev = recordWithoutHash.prev;
  if (typeof prev !== 'string') throw new TypeError('record has no prev');
  const canonical = canonicalize(recordWithoutHash);
  if (canonical === undefined) throw new TypeError('record is not JSON');
  return hashCanonical(prev, canonical);
}

/** The same hash from the record's canonical JSON text, when the writer already has it. */
export function hashCanonical(prev: string, canonical: string): string {
  // one-shot: the same digest as update(prev).update(canonical), without a Hash object per record
  return hash('sha256', prev + canonical, 'hex');
}

/** The fixed string a checkpoint signs; versioned so the format can change without ambiguity. */
export function checkpointMessage(signedSeq: number, signedHash: string): string {
  return `kubegate-audit-checkpoint:v1:${signedSeq}:${signedHash}`;
}

/** First 16 hex of sha256 over the raw 32-byte Ed25519 public key (accepts a private key too). */
export function auditKeyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return createHash('sha256').update(Buffer.from(jwk.x, 'base64url')).digest('hex').slice(0, 16);
}

export function signCheckpoint(privateKey: KeyObject, signedSeq: number, signedHash: string): string {
  return sign(null, Buffer.from(checkpointMessage(signedSeq, signedHash)), privateKey).toString('base64');
}

export function checkpointSignatureValid(
  publicKey: KeyObject,
  signedSeq: number,
  signedHash: string,
  signatureB64: string,
): boolean {
  try {
    const msg = Buffer.from(checkpointMessage(signedSeq, signedHash));
    return verify(null, msg, publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}
