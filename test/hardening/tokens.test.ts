import type { JsonWebKey } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer, InvalidRequestError, InvalidTokenError, UnauthorizedError, type Authorizer } from '../../src/index.js';
import { createTestKit, type TestKit } from '../../testing/index.js';
import { closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import {
  attackerKeys,
  b64json,
  b64url,
  decodeSegment,
  ecSigner,
  forge,
  hmacSigner,
  nowSeconds,
  pssSigner,
  publicKeyOf,
  rsaSigner,
  startTripwire,
  type AttackerKeys,
  type Tripwire,
} from '../support/forge.js';
import { bearer, expectGuardAnswer, expectInvalidToken, primaryFrameworks, sleep } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

const AUDIENCE = 'https://api.example.test';

let kit: TestKit;
let kitKid: string;
let kitPublicPem: { spki: string; pkcs1: string; jwk: string };
let attacker: AttackerKeys;
/** Keys the test itself serves as a trusted JWKS ("self" apps): valid signatures over hostile contents. */
let self: AttackerKeys;
let selfJwks: Tripwire;
/** Where jku / x5u point: must never be fetched. */
let tripwire: Tripwire;

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  // Two keys in the JWKS from the start: a token without kid then matches several keys.
  kit.rotateKeys();
  kitKid = decodeSegment(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }), 0).kid as string;
  const kitKey = await publicKeyOf(kit.jwksUrl, kitKid);
  kitPublicPem = {
    spki: kitKey.export({ format: 'pem', type: 'spki' }).toString(),
    pkcs1: kitKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    jwk: JSON.stringify(kitKey.export({ format: 'jwk' })),
  };
  attacker = attackerKeys();
  self = attackerKeys();
  const withoutAlg = ({ alg: _alg, ...jwk }: JsonWebKey) => jwk;
  selfJwks = await startTripwire({
    keys: [
      { ...withoutAlg(self.rsa.publicJwk), kid: 'self-rsa' },
      { ...withoutAlg(self.ec.publicJwk), kid: 'self-ec' },
    ],
  });
  tripwire = await startTripwire({ keys: [attacker.rsa.publicJwk, attacker.ec.publicJwk] });
});

afterAll(async () => {
  expect(tripwire.requests).toBe(0);
  await new Promise((resolve) => tripwire.server.close(resolve));
  await new Promise((resolve) => selfJwks.server.close(resolve));
  await kit.close();
});

/** A payload that would pass: Alice in Acme, no permissions in the token (so a resource check would follow). */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSeconds();
  const payload: Record<string, unknown> = {
    iss: kit.issuer,
    sub: 'user_alice',
    org_id: 'org_acme',
    permissions: [],
    sid: 'session_1',
    iat: now,
    exp: now + 300,
    ...overrides,
  };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete payload[key];
  return payload;
}

const kitSigned = (payload: unknown = claims(), header: Record<string, unknown> = {}) =>
  kit.signToken(payload as Record<string, unknown>, header);
const attackerRsa = (header: Record<string, unknown>, payload: unknown = claims()) =>
  forge({ alg: 'RS256', typ: 'JWT', ...header }, payload, rsaSigner(attacker.rsa.privateKey));
const selfRsa = (payload: unknown = claims(), header: Record<string, unknown> = {}, hash = 'sha256') =>
  forge({ alg: 'RS256', typ: 'JWT', kid: 'self-rsa', ...header }, payload, rsaSigner(self.rsa.privateKey, hash));
const hs256 = (secret: string) => forge({ alg: 'HS256', typ: 'JWT', kid: kitKid }, claims(), hmacSigner(secret));

type AppVariant = 'kit' | 'audience' | 'self';

interface BadToken {
  name: string;
  token: () => string;
  /** Which authorizer judges it (default: the kit's JWKS, no audience). */
  app?: AppVariant;
}

/** Every one of these must answer 401 invalid_token without a single Authorization API call. */
const badTokens: BadToken[] = [
  // ---- structure ----
  { name: 'one segment', token: () => 'not-a-jwt' },
  { name: 'two segments', token: () => kitSigned().split('.').slice(0, 2).join('.') },
  { name: 'four segments', token: () => `${kitSigned()}.AAAA` },
  {
    name: 'five segments (JWE-shaped)',
    token: () => `${b64json({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: kitKid })}.${b64url('k')}.${b64url('iv')}.${b64url('ct')}.${b64url('tag')}`,
  },
  { name: 'only dots', token: () => '..' },
  { name: 'characters outside token68', token: () => `${kitSigned()}%` },
  { name: 'header in the base64 (not base64url) alphabet', token: () => `e+/+.${b64json(claims())}.c2ln` },
  { name: 'header of one base64 character', token: () => `a.${b64json(claims())}.c2ln` },
  { name: 'header not JSON', token: () => `${b64url('{"alg":"RS256"')}.${b64json(claims())}.c2ln` },
  { name: 'header a JSON array', token: () => forge(['RS256'], claims(), () => Buffer.from('sig')) },
  { name: 'header JSON null', token: () => forge(null, claims(), () => Buffer.from('sig')) },
  { name: 'payload an array (validly signed)', token: () => kitSigned([claims()]) },
  { name: 'payload a string (validly signed)', token: () => kitSigned('user_alice') },
  { name: 'payload null (validly signed)', token: () => kitSigned(null) },
  { name: 'payload not JSON (validly signed)', token: () => selfRsa(b64url('{"sub":"user_alice"')), app: 'self' },
  { name: 'payload of one base64 character (validly signed)', token: () => selfRsa('a'), app: 'self' },

  // ---- algorithms ----
  { name: 'alg none, no signature', token: () => forge({ alg: 'none', typ: 'JWT' }, claims()) },
  { name: 'alg None, no signature', token: () => forge({ alg: 'None', typ: 'JWT', kid: kitKid }, claims()) },
  { name: 'alg none with a real signature', token: () => kitSigned(claims(), { alg: 'none' }) },
  { name: 'alg missing', token: () => kitSigned(claims(), { alg: undefined }) },
  { name: 'HS256 keyed with the RSA public key (SPKI PEM)', token: () => hs256(kitPublicPem.spki) },
  { name: 'HS256 keyed with the RSA public key (PKCS#1 PEM)', token: () => hs256(kitPublicPem.pkcs1) },
  { name: 'HS256 keyed with the RSA public JWK', token: () => hs256(kitPublicPem.jwk) },
  { name: 'ES256 with the kit kid', token: () => forge({ alg: 'ES256', kid: kitKid }, claims(), ecSigner(attacker.ec.privateKey)) },
  { name: 'ES256 with a key the JWKS serves', token: () => forge({ alg: 'ES256', kid: 'self-ec' }, claims(), ecSigner(self.ec.privateKey)), app: 'self' },
  { name: 'PS256 with a key the JWKS serves', token: () => forge({ alg: 'PS256', kid: 'self-rsa' }, claims(), pssSigner(self.rsa.privateKey)), app: 'self' },
  { name: 'RS512 with a key the JWKS serves', token: () => selfRsa(claims(), { alg: 'RS512' }, 'sha512'), app: 'self' },
  { name: 'RS256 header over an RS512 signature', token: () => selfRsa(claims(), {}, 'sha512'), app: 'self' },

  // ---- keys ----
  { name: 'unknown kid', token: () => attackerRsa({ kid: 'attacker-rsa' }) },
  { name: 'the kit kid, another key', token: () => attackerRsa({ kid: kitKid }) },
  { name: 'no kid while the JWKS holds several keys', token: () => kitSigned(claims(), { kid: undefined }) },
  { name: 'no kid, another key', token: () => attackerRsa({}) },
  { name: 'kid path traversal', token: () => attackerRsa({ kid: '../../../../../../dev/null' }) },
  { name: 'kid SQL injection', token: () => attackerRsa({ kid: "' OR '1'='1' --" }) },
  { name: 'kid with a NUL byte after the real kid', token: () => kitSigned(claims(), { kid: `${kitKid}\u0000` }) },
  { name: 'kid a number', token: () => kitSigned(claims(), { kid: 1 }) },
  { name: 'kid an object', token: () => kitSigned(claims(), { kid: { $ne: null } }) },
  { name: 'kid an array holding the real kid', token: () => kitSigned(claims(), { kid: [kitKid] }) },
  { name: 'kid of 2 000 characters', token: () => attackerRsa({ kid: 'k'.repeat(2_000) }) },

  // ---- header parameters that must not be followed ----
  { name: 'embedded jwk, no kid', token: () => attackerRsa({ jwk: attacker.rsa.publicJwk }) },
  { name: 'embedded jwk with its kid', token: () => attackerRsa({ kid: 'attacker-rsa', jwk: attacker.rsa.publicJwk }) },
  { name: 'jku to a loopback JWKS', token: () => attackerRsa({ kid: 'attacker-rsa', jku: `${tripwire.url}/jwks.json` }) },
  { name: 'jku with the kit kid', token: () => attackerRsa({ kid: kitKid, jku: `${tripwire.url}/jwks.json` }) },
  { name: 'x5u to a loopback certificate', token: () => attackerRsa({ kid: 'attacker-rsa', x5u: `${tripwire.url}/cert.pem` }) },
  { name: 'x5c embedded', token: () => attackerRsa({ x5c: [b64url('not a certificate').replace(/-/g, '+')] }) },
  { name: 'unknown crit (validly signed)', token: () => kitSigned(claims(), { crit: ['https://evil.test/ext'], 'https://evil.test/ext': 1 }) },
  { name: 'crit b64=false (validly signed)', token: () => kitSigned(claims(), { crit: ['b64'], b64: false }) },
  { name: 'crit not an array (validly signed)', token: () => kitSigned(claims(), { crit: 'exp' }) },

  // ---- issuer and audience ----
  { name: 'wrong issuer', token: () => kitSigned(claims({ iss: 'https://evil.example' })) },
  { name: 'issuer with a trailing slash', token: () => kitSigned(claims({ iss: `${kit.issuer}/` })) },
  { name: 'issuer in upper case', token: () => kitSigned(claims({ iss: kit.issuer.toUpperCase() })) },
  { name: 'issuer missing', token: () => kitSigned(claims({ iss: undefined })) },
  { name: 'issuer an array', token: () => kitSigned(claims({ iss: [kit.issuer] })) },
  { name: 'audience mismatch', token: () => kitSigned(claims({ aud: 'https://other.example.test' })), app: 'audience' },
  { name: 'audience missing while one is required', token: () => kitSigned(claims()), app: 'audience' },
  { name: 'audience list without ours', token: () => kitSigned(claims({ aud: ['a', `${AUDIENCE}/`] })), app: 'audience' },

  // ---- lifetime ----
  { name: 'expired a minute ago', token: () => kitSigned(claims({ exp: nowSeconds() - 60 })) },
  { name: 'exp == now', token: () => kitSigned(claims({ exp: nowSeconds(), iat: nowSeconds() - 10 })) },
  { name: 'expired 1 s ago (inside the clock tolerance)', token: () => kitSigned(claims({ exp: nowSeconds() - 1, iat: nowSeconds() - 10 })) },
  { name: 'exp missing', token: () => kitSigned(claims({ exp: undefined })) },
  { name: 'exp a string', token: () => kitSigned(claims({ exp: String(nowSeconds() + 300) })) },
  { name: 'exp null', token: () => kitSigned(claims({ exp: null })) },
  { name: 'nbf a minute ahead', token: () => kitSigned(claims({ nbf: nowSeconds() + 60 })) },
  { name: 'nbf a string', token: () => kitSigned(claims({ nbf: String(nowSeconds()) })) },
  { name: 'iat an hour ahead', token: () => kitSigned(claims({ iat: nowSeconds() + 3_600 })) },
  { name: 'iat a string', token: () => kitSigned(claims({ iat: String(nowSeconds()) })) },

  // ---- signature ----
  { name: 'signature truncated', token: () => kitSigned().slice(0, -8) },
  { name: 'signature removed', token: () => kitSigned().replace(/[^.]+$/, '') },
  { name: 'signature of another token', token: () => `${kitSigned().split('.').slice(0, 2).join('.')}.${kitSigned(claims({ sub: 'user_bob' })).split('.')[2]}` },
  {
    name: 'payload tampered (permission added), signature kept',
    token: () => {
      const [header, , signature] = kitSigned().split('.');
      return `${header}.${b64json(claims({ permissions: ['project:edit'] }))}.${signature}`;
    },
  },
  { name: 'oversized (over the 8 192-character cap)', token: () => kitSigned(claims({ pad: 'x'.repeat(6_500) })) },

  // ---- claim types ----
  { name: 'permissions a string', token: () => kitSigned(claims({ permissions: 'project:edit' })) },
  { name: 'permissions holding a number', token: () => kitSigned(claims({ permissions: ['project:view', 7] })) },
  { name: 'permissions an object', token: () => kitSigned(claims({ permissions: { 'project:edit': true } })) },
  { name: 'sub a number', token: () => kitSigned(claims({ sub: 42 })) },
  { name: 'sub missing', token: () => kitSigned(claims({ sub: undefined })) },
  { name: 'sub empty', token: () => kitSigned(claims({ sub: '' })) },
  { name: 'org_id an object', token: () => kitSigned(claims({ org_id: { id: 'org_acme' } })) },
  { name: 'org_id a number', token: () => kitSigned(claims({ org_id: 1 })) },
  { name: 'organization_membership_id a number', token: () => kitSigned(claims({ organization_membership_id: 5 })) },
  { name: 'role an array', token: () => kitSigned(claims({ role: ['admin'] })) },
  { name: 'sid a number', token: () => kitSigned(claims({ sid: 1 })) },
];

/** Tokens that verify but whose `permissions` only look like `project:edit`: never a grant. */
const lookAlikes: string[][] = [
  ['project:edit:x'],
  ['project'],
  ['project:'],
  ['Project:Edit'],
  ['PROJECT:EDIT'],
  ['project:edit '],
  [' project:edit'],
  ['project:edit\u0000'],
  ['project:ed1t'],
  ['project:*'],
  ['*'],
  ['project:edit,project:view'],
  ['projec', 't:edit'],
  ['project:еdit'], // Cyrillic е
];

const routes: RouteSpec[] = [
  { path: '/projects/:id', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/token-only', permission: 'project:edit' },
  { path: '/me' },
];

describe.each(primaryFrameworks)('$name: bad tokens', ({ build }) => {
  const apps = {} as Record<AppVariant, AppUnderTest>;
  let authorizers: Record<AppVariant, Authorizer>;

  beforeAll(() => {
    const base = { workos: kit.workos(), clientId: kit.clientId };
    authorizers = {
      kit: createAuthorizer(base),
      audience: createAuthorizer({ ...base, audience: AUDIENCE }),
      self: createAuthorizer({ ...base, issuer: kit.issuer, jwksUrl: `${selfJwks.url}/jwks` }),
    };
    for (const variant of Object.keys(authorizers) as AppVariant[]) apps[variant] = build(authorizers[variant], routes);
  });
  afterAll(async () => {
    for (const app of Object.values(apps)) await closeServer(app.server);
  });
  beforeEach(() => {
    kit.clearFaults();
    kit.resetCalls();
  });

  it('controls: a good token of each kind gets through (so the 401s below are about the token)', async () => {
    const good = {
      kit: kitSigned(),
      audience: kitSigned(claims({ aud: ['x', AUDIENCE] })),
      self: selfRsa(),
    };
    for (const variant of Object.keys(good) as AppVariant[]) {
      const me = await request(apps[variant].server).get('/me').set(bearer(good[variant]));
      expect(me.status, variant).toBe(200);
      const checked = await request(apps[variant].server).get('/projects/p-1').set(bearer(good[variant]));
      expect(checked.status, variant).toBe(200);
    }
    // The resource route asked WorkOS: zero calls below really means "stopped before".
    expect(kit.calls('check')).toBe(3);
    expect(kit.calls('listOrganizationMemberships')).toBeGreaterThanOrEqual(1);
  });

  it.each(badTokens)('401 invalid_token: $name', async ({ token: make, app = 'kit' }) => {
    const token = make();
    const res = await request(apps[app].server).get('/projects/p-1').set(bearer(token));
    expectInvalidToken(res, token);
    expect(kit.calls('check')).toBe(0);
    expect(kit.calls('listOrganizationMemberships')).toBe(0);
    expect(apps[app].handledErrors).toEqual([]);
  });

  it.each(lookAlikes)('permissions %j do not grant project:edit', async (...permissions: string[]) => {
    const token = kitSigned(claims({ permissions }));
    const res = await request(apps.kit.server).get('/token-only').set(bearer(token));
    expectGuardAnswer(res, 403, 'forbidden', [token]);
    expect(res.body.permission).toBe('project:edit');
    expect(kit.calls()).toBe(0);
  });

  it('the exact permission does grant (control for the look-alikes)', async () => {
    const res = await request(apps.kit.server).get('/token-only').set(bearer(kitSigned(claims({ permissions: ['x', 'project:edit'] }))));
    expect(res.status).toBe(200);
  });

  describe('the Authorization header', () => {
    const good = () => kitSigned();
    const headerCases: { name: string; header?: () => string; path?: string; status: number; error?: string }[] = [
      { name: 'missing', status: 401 },
      { name: 'Basic credentials', header: () => 'Basic dXNlcjpwYXNz', status: 401 },
      { name: 'Digest credentials', header: () => 'Digest username="a", realm="api"', status: 401 },
      { name: 'a token without a scheme', header: () => good(), status: 401 },
      { name: 'Bearer glued to the token', header: () => `Bearer${good()}`, status: 401 },
      { name: 'empty Bearer', header: () => 'Bearer', status: 400, error: 'invalid_request' },
      { name: 'Bearer and spaces', header: () => 'Bearer    ', status: 400, error: 'invalid_request' },
      { name: 'two tokens', header: () => `Bearer ${good()} ${good()}`, status: 400, error: 'invalid_request' },
      { name: 'two Bearer credentials', header: () => `Bearer ${good()}, Bearer ${good()}`, status: 400, error: 'invalid_request' },
      { name: 'two tokens joined by a comma', header: () => `Bearer ${good()},${good()}`, status: 401, error: 'invalid_token' },
      { name: 'lowercase bearer', header: () => `bearer ${good()}`, status: 200 },
      { name: 'uppercase BEARER', header: () => `BEARER ${good()}`, status: 200 },
      { name: 'several spaces after the scheme', header: () => `Bearer   ${good()}`, status: 200 },
      { name: '?access_token= without a header', path: `/me?access_token=TOKEN`, status: 401 },
      { name: '?access_token= next to a bad header token', header: () => 'Bearer x.y.z', path: '/me?access_token=TOKEN', status: 401, error: 'invalid_token' },
    ];

    it.each(headerCases)('$name → $status', async ({ header, path = '/me', status, error }) => {
      const token = good();
      const req = request(apps.kit.server).get(path.replace('TOKEN', token));
      const res = header ? await req.set('Authorization', header()) : await req;
      if (status === 200) {
        expect(res.status).toBe(200);
        expect(res.body.auth.userId).toBe('user_alice');
        return;
      }
      expectGuardAnswer(res, status, error ?? 'unauthorized', [token]);
      if (!error) {
        // No credentials at all: a bare challenge, no error code (RFC 6750 §3.1).
        expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      } else {
        expect(res.headers['www-authenticate']).toContain(`error="${error}"`);
      }
    });
  });
});

describe('cheap rejection', () => {
  it('refuses oversized and malformed tokens before fetching any key', async () => {
    kit.resetCalls();
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const started = performance.now();
    for (const header of [`Bearer ${'a'.repeat(100_000)}`, `Bearer ${'a.'.repeat(4_000)}`, 'Bearer a.b', 'Bearer ..', 'Bearer e30.e30.']) {
      const error = await authz.authenticate(header).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTokenError);
    }
    expect(performance.now() - started).toBeLessThan(100);
    expect(kit.calls('jwks')).toBe(0);
  });

  it('answers verify() given no string with invalid_token, before any lookup or key fetch', async () => {
    kit.resetCalls();
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    await authz.verify(kitSigned()); // something remembered, so the cache is really asked
    for (const token of [undefined, null, 123, {}, ['a.b.c'], '']) {
      const error = await authz.verify(token as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject({ status: 401, code: 'invalid_token', message: 'The access token is malformed' });
    }
    expect(kit.calls('jwks')).toBe(1);
  });

  it('reads headers in linear time: long runs of spaces cannot stall the event loop', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const spaces = ' \t'.repeat(8_000);
    const headers = [`a${spaces}a`, `Bearer a${spaces}a`, `${spaces}a${spaces}a`, `Bearer${spaces}${'a'.repeat(8_000)}!`, `${'B'.repeat(16_000)}@`];
    for (const header of headers) await authz.authenticate(header).catch(() => undefined); // warm up
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      for (const header of headers) {
        const error = await authz.authenticate(header).catch((e: unknown) => e);
        expect([400, 401]).toContain((error as { status?: number }).status);
      }
    }
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('never takes a token for a remembered one because it ends the same way', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const valid = kitSigned();
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    await expect(authz.authenticate(`Bearer ${valid}`)).resolves.toMatchObject({ userId: 'user_alice' });
    // The verified-token cache is looked up by the token's last characters: these share them all.
    const lookalikes = [
      `${header}.${b64json(claims({ sub: 'user_bob' }))}.${signature}`,
      `${header}.${b64json(claims({ permissions: ['project:edit'] }))}.${signature}`,
      `${header}.${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}.${signature}`,
      `${signature.slice(-43)}`,
      // Exactly the lookup key.
      `${signature.slice(-12)}`,
      `x${valid}`,
    ];
    for (const token of lookalikes) {
      expect(token.slice(-12)).toBe(valid.slice(-12));
      await expect(authz.authenticate(`Bearer ${token}`), token.slice(0, 40)).rejects.toBeInstanceOf(InvalidTokenError);
    }
    kit.resetCalls();
    await expect(authz.authenticate(`Bearer ${valid}`)).resolves.toMatchObject({ userId: 'user_alice' });
    expect(authz.cacheStats().tokens).toBe(1);
    expect(kit.calls('jwks')).toBe(0);
  });

  it('finds a remembered token in any spelling of a Bearer header, and in no other header', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const valid = kitSigned();
    await expect(authz.authenticate(`Bearer ${valid}`)).resolves.toMatchObject({ userId: 'user_alice' });
    kit.resetCalls();
    // `Bearer <token>` is matched whole against the remembered token's header; the rest is parsed.
    for (const header of [`Bearer ${valid}`, `bearer ${valid}`, `BEARER\t${valid}`, `  Bearer   ${valid} \t`]) {
      await expect(authz.authenticate(header), JSON.stringify(header.slice(0, 12))).resolves.toMatchObject({ userId: 'user_alice' });
    }
    const refused: [string, new (...args: never[]) => Error][] = [
      [`Basic ${valid}`, UnauthorizedError],
      [`Token ${valid}`, UnauthorizedError],
      [`Bearer${valid}`, UnauthorizedError],
      [`xBearer ${valid}`, UnauthorizedError],
      [`Bearer ${valid} ${valid}`, InvalidRequestError],
      [`Bearer x ${valid}`, InvalidRequestError],
    ];
    for (const [header, errorClass] of refused) {
      await expect(authz.authenticate(header), header.slice(0, 12)).rejects.toBeInstanceOf(errorClass);
    }
    expect(kit.calls('jwks')).toBe(0);
  });

  it('stops accepting a remembered token at its exp', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    // At least half a second to use it, at most ~1.5 s to wait.
    const exp = nowSeconds() + (Date.now() % 1000 < 500 ? 1 : 2);
    const token = kitSigned(claims({ exp, iat: exp - 60 }));
    await expect(authz.verify(token)).resolves.toMatchObject({ userId: 'user_alice' });
    await expect(authz.verify(token)).resolves.toMatchObject({ userId: 'user_alice' });
    await sleep(exp * 1000 - Date.now() + 20);
    await expect(authz.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
