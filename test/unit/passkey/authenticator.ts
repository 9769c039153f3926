import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/**
 * A software authenticator for unit tests: a P-256 key, and assertions built as a real one builds
 * them (rpIdHash, flags, counter; signature over authenticatorData || sha256(clientDataJSON)).
 */
export class SoftAuthenticator {
  readonly id = Buffer.from(createHash('sha256').update(String(Math.random())).digest()).toString(
    'base64url',
  );
  private readonly key: KeyObject;
  readonly publicKeyCose: string;
  private counter = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.key = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    const x = Buffer.from(String(jwk.x), 'base64url');
    const y = Buffer.from(String(jwk.y), 'base64url');
    // COSE EC2 key as CBOR: {1: 2, 3: -7, -1: 1, -2: x, -3: y}
    const cose = Buffer.concat([
      Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]),
      x,
      Buffer.from([0x22, 0x58, 0x20]),
      y,
    ]);
    this.publicKeyCose = cose.toString('base64url');
  }

  assert(opts: { origin: string; rpId: string; challenge: string; userVerified?: boolean }) {
    const flags = 0x01 | (opts.userVerified === false ? 0 : 0x04);
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(++this.counter);
    const authData = Buffer.concat([
      createHash('sha256').update(opts.rpId).digest(),
      Buffer.from([flags]),
      counter,
    ]);
    const clientData = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: opts.challenge,
        origin: opts.origin,
        crossOrigin: false,
      }),
    );
    const signature = sign(
      'sha256',
      Buffer.concat([authData, createHash('sha256').update(clientData).digest()]),
      this.key,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      clientExtensionResults: {},
      response: {
        authenticatorData: authData.toString('base64url'),
        clientDataJSON: clientData.toString('base64url'),
        signature: signature.toString('base64url'),
      },
    };
  }
}
