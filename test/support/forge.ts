import { createHmac, createPublicKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newKeyPair } from '../../testing/keys.js';

/** Tools to build the tokens an attacker would send: any header, any payload, any signature. */

export const b64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');
export const b64json = (value: unknown): string => b64url(JSON.stringify(value));

/** A compact JWS whose signature is `signer(signingInput)` (none: empty signature). */
export function forge(
  header: unknown,
  payload: unknown,
  signer: ((input: string) => Buffer) | 'none' = 'none',
): string {
  const input = `${typeof header === 'string' ? header : b64json(header)}.${typeof payload === 'string' ? payload : b64json(payload)}`;
  return `${input}.${signer === 'none' ? '' : b64url(signer(input))}`;
}

export const rsaSigner =
  (key: KeyObject, hash = 'sha256') =>
  (input: string): Buffer =>
    sign(hash, Buffer.from(input), key);

export const pssSigner =
  (key: KeyObject) =>
  (input: string): Buffer =>
    sign('sha256', Buffer.from(input), { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 });

export const ecSigner =
  (key: KeyObject) =>
  (input: string): Buffer =>
    sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });

export const hmacSigner =
  (secret: string | Buffer) =>
  (input: string): Buffer =>
    createHmac('sha256', secret).update(input).digest();

/** Keys that are not the kit's: what an attacker can sign with. */
export interface AttackerKeys {
  rsa: { privateKey: KeyObject; publicJwk: JsonWebKey };
  ec: { privateKey: KeyObject; publicJwk: JsonWebKey };
}

export function attackerKeys(): AttackerKeys {
  const rsa = newKeyPair({ type: 'rsa', modulusLength: 2048 });
  const ec = newKeyPair({ type: 'ec', namedCurve: 'P-256' });
  return {
    rsa: { privateKey: rsa.privateKey, publicJwk: { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'attacker-rsa', alg: 'RS256' } },
    ec: { privateKey: ec.privateKey, publicJwk: { ...ec.publicKey.export({ format: 'jwk' }), kid: 'attacker-ec', alg: 'ES256' } },
  };
}

/** The kit's public signing key (the one a token's kid names), as an attacker would download it. */
export async function publicKeyOf(jwksUrl: string, kid: string): Promise<KeyObject> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) throw new Error(`no key ${kid} in ${jwksUrl}`);
  return createPublicKey({ key: jwk, format: 'jwk' });
}

export function decodeSegment(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A loopback HTTP server that counts requests: where `jku` / `x5u` point, to prove nobody fetches them. */
export interface Tripwire {
  url: string;
  requests: number;
  server: Server;
}

export async function startTripwire(body: unknown): Promise<Tripwire> {
  const tripwire = { url: '', requests: 0, server: createServer() };
  tripwire.server.on('request', (_req, res) => {
    tripwire.requests += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => tripwire.server.listen(0, '127.0.0.1', resolve));
  tripwire.url = `http://127.0.0.1:${(tripwire.server.address() as AddressInfo).port}`;
  return tripwire;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
