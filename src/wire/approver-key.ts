import { createHash } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** An approver's signing key as stored on disk: a private JWK that names its owner. */
export interface ApproverKeyFile extends JWK {
  kid: string;
  /** The approver's name (becomes the token's `sub`). */
  name: string;
}

/** The approvers' public keys kubegate verifies against (its approvers JWKS file). */
export interface ApproverJwks {
  /** `groups`: the approver groups this key's owner belongs to (approver scopes). */
  keys: (JWK & { kid: string; name: string; groups?: string[] })[];
}

/** Makes an Ed25519 approver key: the private half for approve-cli, the public half for kubegate's JWKS. */
export async function generateApproverKey(
  name: string,
): Promise<{ privateJwk: ApproverKeyFile; publicJwk: ApproverJwks['keys'][number] }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(name))
    throw new Error(`invalid approver name ${JSON.stringify(name)}`);
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = `${name}-${createHash('sha256').update(String(pub.x)).digest('hex').slice(0, 12)}`;
  const priv = await exportJWK(privateKey);
  return {
    privateJwk: { ...priv, kid, name, alg: 'EdDSA', use: 'sig' },
    publicJwk: { ...pub, kid, name, alg: 'EdDSA', use: 'sig' },
  };
}
