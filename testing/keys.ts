import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { JWK_RSA_Public } from 'jose';
import { generateId } from './wire.js';

type KeyPairSpec = { type: 'rsa'; modulusLength: number } | { type: 'ec'; namedCurve: string };

/**
 * A new key pair, read back from DER into KeyObjects of their own. The KeyObjects that
 * generateKeyPairSync returns share a lock with the job that made them, and on Node 20 the job
 * takes that lock when it is garbage-collected: a collection that falls inside `export()` of such
 * a key (which holds the lock while it allocates the JWK's strings) deadlocks the process for good.
 * It hung a CI run in `publicKey.export({ format: 'jwk' })`. Under `node --gc-interval=13`, a
 * script that generates 512-bit pairs in a loop, exports each public key and signs with each
 * private key hung on Node 20.20 at every interval tried; with DER round trips it ran to the end.
 * Node 22 and 24 did not hang either way.
 */
export function newKeyPair(spec: KeyPairSpec): { privateKey: KeyObject; publicKey: KeyObject } {
  const publicKeyEncoding = { type: 'spki', format: 'der' } as const;
  const privateKeyEncoding = { type: 'pkcs8', format: 'der' } as const;
  const der =
    spec.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: spec.modulusLength, publicKeyEncoding, privateKeyEncoding })
      : generateKeyPairSync('ec', { namedCurve: spec.namedCurve, publicKeyEncoding, privateKeyEncoding });
  return {
    privateKey: createPrivateKey({ key: der.privateKey, ...privateKeyEncoding }),
    publicKey: createPublicKey({ key: der.publicKey, ...publicKeyEncoding }),
  };
}

/**
 * The JWKS is typed with jose's JWK types, not node:crypto's `JsonWebKey`: they reach the published
 * .d.ts, and newer @types/node no longer export `JsonWebKey` from node:crypto.
 */
interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK_RSA_Public;
}

function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = newKeyPair({ type: 'rsa', modulusLength: 2048 });
  const kid = generateId('sso_oidc_key_pair');
  const { n, e } = publicKey.export({ format: 'jwk' });
  if (typeof n !== 'string' || typeof e !== 'string') throw new Error('the signing key exported no RSA modulus or exponent');
  return { kid, privateKey, publicJwk: { kty: 'RSA', n, e, kid, alg: 'RS256', use: 'sig' } };
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

  jwks(): { keys: JWK_RSA_Public[] } {
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
