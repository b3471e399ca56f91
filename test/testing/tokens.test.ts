import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { createTestKit, demoSeed, type TestKit } from '../../testing/index.js';
import { sdkMajor } from '../support/sdk.js';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: demoSeed });
});
afterAll(() => kit.close());

/** A fresh JWKS client each time, so a rotation is seen without waiting for jose's cool-down. */
const verify = (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(kit.jwksUrl)), { issuer: kit.issuer });

describe('mintToken', () => {
  it('mints an AuthKit-shaped RS256 token that verifies against the JWKS', async () => {
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });
    const { payload, protectedHeader } = await verify(token);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toMatchObject({
      iss: kit.issuer,
      sub: 'user_alice',
      org_id: 'org_acme',
      role: 'member',
      roles: ['member'],
      permissions: ['workspace:view'],
      organization_membership_id: 'om_alice',
    });
    expect(payload.sid).toMatch(/^session_/);
    expect(typeof payload.jti).toBe('string');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(300);
  });

  it('takes role, permissions, lifetime and extra claims; undefined claims are removed', async () => {
    const token = kit.mintToken({
      user: 'user_zed',
      organization: 'org_acme',
      unchecked: true,
      role: 'admin',
      expiresIn: 60,
      sessionId: 'session_fixed',
      claims: { feature_flags: ['beta'], jti: undefined },
    });
    const { payload } = await verify(token);
    expect(payload).toMatchObject({ role: 'admin', permissions: ['workspace:view', 'project:edit', 'project:view', 'billing:view'], sid: 'session_fixed', feature_flags: ['beta'] });
    expect(payload).not.toHaveProperty('jti');
    expect(payload).not.toHaveProperty('organization_membership_id');

    const unknown = await verify(kit.mintToken({ user: 'user_zed', organization: 'org_nowhere', unchecked: true }));
    expect(unknown.payload).not.toHaveProperty('role');
    expect(unknown.payload.permissions).toEqual([]);
  });

  it('refuses users, organizations and memberships the model does not hold, and memberships of someone else', () => {
    expect(() => kit.mintToken({ user: 'user_zed', organization: 'org_acme' })).toThrow(/no user user_zed.*unchecked: true/);
    expect(() => kit.mintToken({ user: 'user_alice', organization: 'org_nowhere' })).toThrow(/no organization org_nowhere/);
    expect(() => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_nobody' })).toThrow(/no organization membership om_nobody/);
    expect(() => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_bob' })).toThrow(/om_bob is user_bob's in org_acme, not user_alice's/);
    expect(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_bob', unchecked: true })).toMatch(/^ey/);
  });

  it('carries auth_time beside sid, as AuthKit does', async () => {
    const { payload } = await verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    expect(payload.auth_time).toBe(payload.iat);
  });

  it.runIf(sdkMajor >= 12)("passes SDK 12's userManagement.verifyAccessToken()", async () => {
    // Not in SDK 11's types; this test runs only where it exists.
    type Verifier = { verifyAccessToken(token: string): Promise<Record<string, unknown> | null> };
    const userManagement = kit.workos().userManagement as unknown as Verifier;
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });
    expect(await userManagement.verifyAccessToken(token)).toMatchObject({ iss: kit.issuer, sub: 'user_alice', org_id: 'org_acme' });
  });

  it('mints expired tokens on request', async () => {
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', expiresIn: -10 });
    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWTExpired);
  });
});

describe('signToken and key rotation', () => {
  it('signs any payload, a session with an exp outside the Date range included (found by the fuzz test)', () => {
    for (const exp of [-8_640_000_000_000.001, 1e300, Number.NaN, 'soon']) {
      expect(() => kit.signToken({ sub: 'user_alice', sid: `session_${String(exp)}`, exp })).not.toThrow();
    }
    expect(() => kit.mintToken({ user: 'user_alice', organization: 'org_acme', claims: { exp: -8_640_000_000_000.001 } })).not.toThrow();
  });

  it('signs arbitrary payloads; header overrides apply', async () => {
    const token = kit.signToken({ iss: kit.issuer, sub: 'user_x' }, { kid: undefined, typ: 'at+jwt' });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'at+jwt' });
  });

  it('rotates keys, keeping the previous one unless told otherwise', async () => {
    const before = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    const oldKid = decodeProtectedHeader(before).kid;
    const newKid = kit.rotateKeys();
    expect(newKid).not.toBe(oldKid);
    const after = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    await verify(before);
    await verify(after);

    kit.rotateKeys({ keepPrevious: false });
    await expect(verify(after)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    const jwks = (await (await fetch(kit.jwksUrl)).json()) as { keys: Array<{ kid: string; alg: string; use: string }> };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ alg: 'RS256', use: 'sig', kty: 'RSA' });
  });

  it('the SDK finds the JWKS at the kit', () => {
    expect(kit.workos().userManagement.getJwksUrl(kit.clientId)).toBe(kit.jwksUrl);
  });
});

describe('mintMachineToken', () => {
  const verifyMachine = (token: string) => jwtVerify(token, createRemoteJWKSet(new URL(kit.machineJwksUrl)), { issuer: kit.machineIssuer });

  it('signs a Connect client-credentials token with the AuthKit domain key, served at <machineIssuer>/oauth2/jwks', async () => {
    expect(kit.machineIssuer).toBe(`${kit.url}/authkit`);
    expect(kit.machineJwksUrl).toBe(`${kit.machineIssuer}/oauth2/jwks`);
    const token = kit.mintMachineToken({ clientId: 'client_reporting', organization: 'org_acme', permissions: ['reports:read'] });
    const { payload } = await verifyMachine(token);
    expect(Object.keys(payload).sort()).toEqual(['exp', 'iat', 'iss', 'jti', 'org_id', 'permissions', 'sub']);
    expect(payload).toMatchObject({ iss: kit.machineIssuer, sub: 'client_reporting', org_id: 'org_acme', permissions: ['reports:read'] });
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    expect(Object.keys((await verifyMachine(kit.mintMachineToken({ clientId: 'client_x', organization: 'org_acme' }))).payload)).not.toContain('permissions');
  });

  it('uses a key of its own: user tokens and machine tokens do not verify with each other\'s JWKS', async () => {
    const machine = kit.mintMachineToken({ clientId: 'client_x', organization: 'org_acme' });
    const user = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    expect(decodeProtectedHeader(machine).kid).not.toBe(decodeProtectedHeader(user).kid);
    await expect(jwtVerify(machine, createRemoteJWKSet(new URL(kit.jwksUrl)))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(jwtVerify(user, createRemoteJWKSet(new URL(kit.machineJwksUrl)))).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('refuses bad input with a TypeError, and an organization the model does not hold unless unchecked', () => {
    const mint = (options: unknown) => () => kit.mintMachineToken(options as Parameters<TestKit['mintMachineToken']>[0]);
    expect(mint(undefined)).toThrow(TypeError);
    expect(mint({ organization: 'org_acme' })).toThrow(/mintMachineToken: clientId must be a non-empty string/);
    expect(mint({ clientId: 'client_x' })).toThrow(/mintMachineToken: organization must be a non-empty string/);
    expect(mint({ clientId: 'client_x', organization: 'org_acme', permissions: 'reports:read' })).toThrow(/permissions must be an array/);
    expect(mint({ clientId: 'client_x', organization: 'org_acme', expiresIn: 'soon' })).toThrow(/expiresIn must be a number/);
    expect(mint({ clientId: 'client_x', organization: 'org_nowhere' })).toThrow(/no organization org_nowhere.*unchecked: true/);
    expect(mint({ clientId: 'client_x', organization: 'org_nowhere', unchecked: true })()).toMatch(/^ey/);
  });
});
