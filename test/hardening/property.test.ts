import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, isFgaGuardError, type Authorizer } from '../../src/index.js';
import { bearerCredentials } from '../../src/token.js';
import { createTestKit, type TestKit } from '../../testing/index.js';
import { closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import { b64json, b64url, nowSeconds } from '../support/forge.js';
import { CHALLENGE, expectNoLeak, primaryFrameworks, trackCrashes } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

const RUNS = 80;
let kit: TestKit;
let kid: string;
const crashes = trackCrashes();

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  kid = JSON.parse(Buffer.from(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }).split('.')[0]!, 'base64url').toString()).kid;
});
afterAll(async () => {
  crashes.stop();
  expect(crashes.crashes).toEqual([]);
  await kit.close();
});

const routes: RouteSpec[] = [
  { path: '/projects/:id', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/me' },
];

/** Bytes a client can put in a header value (HTTP forbids CR, LF, NUL and the other controls but HTAB). */
const headerBytes = fc
  .uint8Array({ maxLength: 300 })
  .map((bytes) => Buffer.from(bytes.filter((b) => b === 0x09 || (b >= 0x20 && b !== 0x7f))).toString('latin1'));

const segment = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => b64url(Buffer.from(bytes))),
  fc.jsonValue().map((value) => b64json(value)),
  fc.string({ unit: 'binary', maxLength: 100 }).map((text) => b64url(text)),
  fc.constantFrom('', 'e30', 'bnVsbA', 'W10', 'AAAA'),
);
const header = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      alg: fc.constantFrom('RS256', 'none', 'HS256', 'ES256', 'PS256', 'RS512'),
      // The kit's kid is only known once the kit is up: read it when a value is generated.
      kid: fc.oneof(fc.string(), fc.constant(0).map(() => kid)),
      typ: fc.string(),
    },
    { requiredKeys: [] },
  ),
);
const jwtShaped = fc.oneof(
  fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
  fc.tuple(header, segment, segment).map(([h, p, s]) => `${b64json(h)}.${p}.${s}`),
  fc.array(segment, { minLength: 1, maxLength: 7 }).map((parts) => parts.join('.')),
).filter((token) => token.length > 0);

describe.each(primaryFrameworks)('$name: fuzzed Authorization headers', ({ build }) => {
  let authz: Authorizer;
  let app: AppUnderTest;
  beforeAll(async () => {
    authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    app = build(authz, routes);
    // Warm the JWKS so every run is about the header alone.
    await request(app.server).get('/me').set('Authorization', `Bearer ${kit.mintToken({ user: 'user_alice', organization: 'org_acme' })}`);
    kit.resetCalls();
  });
  afterAll(async () => {
    expect(app.handledErrors).toEqual([]);
    expect(kit.calls('check')).toBe(0);
    expect(kit.calls('listOrganizationMemberships')).toBe(0);
    await closeServer(app.server);
  });

  it('random bytes after "Bearer " → 401 invalid_token', async () => {
    await fc.assert(
      fc.asyncProperty(headerBytes, async (bytes) => {
        const token = bytes.replace(/[\t ]/g, '') || 'x';
        const res = await request(app.server).get('/projects/p-1').set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
        expect(res.headers['www-authenticate']).toMatch(CHALLENGE);
        expectNoLeak(res, [token]);
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes as the whole header → 401 (400 only for a Bearer with no or several tokens, per RFC 6750)', async () => {
    await fc.assert(
      fc.asyncProperty(headerBytes, async (value) => {
        const res = await request(app.server).get('/projects/p-1').set('Authorization', value);
        const bearerWithSpaces = /^[\t ]*bearer(?:[\t ]|$)/i.test(value);
        expect(res.status === 401 || (res.status === 400 && bearerWithSpaces), `${res.status} for ${JSON.stringify(value)}`).toBe(true);
        expect(res.headers['www-authenticate']).toMatch(CHALLENGE);
        expectNoLeak(res);
      }),
      { numRuns: RUNS },
    );
  });

  it('random JWT-shaped strings → 401 invalid_token', async () => {
    await fc.assert(
      fc.asyncProperty(jwtShaped, async (token) => {
        const res = await request(app.server).get('/projects/p-1').set('Authorization', `Bearer ${token}`);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
        expectNoLeak(res, [token]);
      }),
      { numRuns: RUNS },
    );
  });

  it('validly signed tokens with random claims → 200, 401 or 403, never anything else', async () => {
    const claim = fc.constantFrom('iss', 'sub', 'org_id', 'organization_membership_id', 'permissions', 'role', 'sid', 'exp', 'nbf', 'iat', 'aud', 'jti');
    const overrides = fc.dictionary(claim, fc.oneof(fc.jsonValue(), fc.constant(undefined)), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(overrides, async (claims) => {
        const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', claims });
        const res = await request(app.server).get('/me').set('Authorization', `Bearer ${token}`);
        expect([200, 401]).toContain(res.status);
        if (res.status === 401) expect(res.body.error).toBe('invalid_token');
      }),
      { numRuns: RUNS },
    );
    kit.resetCalls();
  });
});

describe('the core, without HTTP in between', () => {
  it('authenticate() of any value rejects with an fga-guard error (400/401), never anything else', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    const anyHeader = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.string({ unit: 'binary', maxLength: 400 }).map((s) => `Bearer ${s}`),
      jwtShaped.map((token) => `Bearer ${token}`),
      fc.anything(),
    );
    await fc.assert(
      fc.asyncProperty(anyHeader, async (value) => {
        const error = await authz.authenticate(value as string).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isFgaGuardError(error), String(error)).toBe(true);
        expect([400, 401]).toContain((error as { status: number }).status);
      }),
      { numRuns: 1_000 },
    );
    expect(kit.calls('check')).toBe(0);
  });

  it('reads `Authorization: Bearer` as RFC 6750 does, for any header (the scheme is matched by char code)', () => {
    /** The rule written plainly: SP/HTAB trimmed, `bearer` in any case, then the end or SP/HTAB. */
    const reference = (header: string): string | 401 | 400 => {
      const value = header.replace(/^[ \t]+|[ \t]+$/g, '');
      if (!/^bearer(?:$|[ \t])/i.test(value)) return 401;
      const credentials = value.slice(6).replace(/^[ \t]+/, '');
      return credentials === '' ? 400 : credentials;
    };
    const outcome = (header: string): string | number => {
      try {
        return bearerCredentials(header, 'api');
      } catch (error) {
        return (error as { status: number }).status;
      }
    };
    // Near misses of the scheme, letter by letter: either case, or a character a bit or two away
    // (0x40, 0x60, 0x01, 0x100) from the letter, which a sloppy case-fold would take for it.
    const nearLetter = (letter: string) => {
      const code = letter.charCodeAt(0);
      return fc.oneof(
        { arbitrary: fc.constantFrom(letter, letter.toUpperCase()), weight: 4 },
        { arbitrary: fc.constantFrom(...[0x40, 0x60, 0x01, 0x100].map((delta) => String.fromCharCode(code ^ delta))), weight: 1 },
      );
    };
    const scheme = fc.tuple(...[...'bearer'].map(nearLetter)).map((letters) => letters.join(''));
    const pieces = fc.constantFrom(' ', '\t', '\u00a0', '\n', 'x', 'tok.en', 'B', '=');
    const header = fc.oneof(
      fc.tuple(fc.array(pieces, { maxLength: 3 }), scheme, fc.array(pieces, { maxLength: 6 })).map(([before, name, after]) => `${before.join('')}${name}${after.join('')}`),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    fc.assert(
      fc.property(header, (value) => {
        expect(outcome(value)).toBe(reference(value));
      }),
      { numRuns: 5_000 },
    );
  });

  it('a token whose exp is just past is always refused, whatever else it says', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.array(fc.string(), { maxLength: 3 }), async (ago, permissions) => {
        const now = nowSeconds();
        const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', permissions, claims: { exp: now - ago, iat: now - 60 } });
        await expect(authz.verify(token)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
      }),
      { numRuns: 40 },
    );
  });
});
