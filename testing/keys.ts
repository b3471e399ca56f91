import { generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { generateId } from './wire.js';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JsonWebKey;
}

function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = generateId('sso_oidc_key_pair');
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString('base64url');

/**
 * The kit's RS256 signing keys. Signing uses node:crypto rather than jose because jose's SignJWT is
 * async only, and `kit.mintToken()` must stay synchronous so it can be used inline.
 */
export class SigningKeys {
  private current = createSigningKey();
  private retired: SigningKey[] = [];

  get currentKid(): string {
    return this.current.kid;
  }

  /** Makes a new current key; the old one stays in the JWKS unless `keepPrevious` is false. */
  rotate(keepPrevious = true): string {
    this.retired = keepPrevious ? [this.current, ...this.retired] : [];
    this.current = createSigningKey();
    return this.current.kid;
  }

  jwks(): { keys: JsonWebKey[] } {
    return { keys: [this.current, ...this.retired].map((key) => key.publicJwk) };
  }

  /** A compact JWS. Header fields override the defaults; a field set to undefined is left out (JSON drops it). */
  sign(payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
    const signingInput = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: this.current.kid, ...header }))}.${base64url(
      JSON.stringify(payload),
    )}`;
    return `${signingInput}.${base64url(sign('sha256', Buffer.from(signingInput), this.current.privateKey))}`;
  }
}
