import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { createAuthorizer, InvalidTokenError, ServiceUnavailableError, type Authorizer, type Decision } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());
afterEach(() => {
  kit.clearFaults();
  kit.resetCalls();
});

function authorizer(options: Parameters<typeof createAuthorizer>[0] = {}): Authorizer {
  return createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, ...options });
}

const project = (externalId: string) => ({ type: 'project', externalId });

describe('createAuthorizer configuration', () => {
  const saved = { key: process.env.WORKOS_API_KEY, client: process.env.WORKOS_CLIENT_ID };
  afterEach(() => {
    process.env.WORKOS_API_KEY = saved.key;
    process.env.WORKOS_CLIENT_ID = saved.client;
    if (saved.key === undefined) delete process.env.WORKOS_API_KEY;
    if (saved.client === undefined) delete process.env.WORKOS_CLIENT_ID;
  });

  it('refuses to start without an API key or a client id, naming what is missing', () => {
    delete process.env.WORKOS_API_KEY;
    delete process.env.WORKOS_CLIENT_ID;
    expect(() => createAuthorizer({ clientId: 'client_x' })).toThrow(/WORKOS_API_KEY/);
    expect(() => createAuthorizer({ apiKey: 'sk_x' })).toThrow(/WORKOS_CLIENT_ID/);
  });

  it('reads WORKOS_API_KEY and WORKOS_CLIENT_ID', () => {
    process.env.WORKOS_API_KEY = 'sk_env';
    process.env.WORKOS_CLIENT_ID = 'client_env';
    expect(() => createAuthorizer()).not.toThrow();
  });

  it('refuses symmetric algorithms, bad numbers and bad realms', () => {
    expect(() => authorizer({ algorithms: ['HS256'] })).toThrow(/asymmetric/);
    expect(() => authorizer({ algorithms: ['none'] })).toThrow(/asymmetric/);
    expect(() => authorizer({ timeout: -1 })).toThrow(/timeout/);
    expect(() => authorizer({ cache: { max: 0 } })).toThrow(/cache.max/);
    expect(() => authorizer({ realm: 'a"b' })).toThrow(/realm/);
    expect(() => authorizer({ jwksUrl: 'not a url' })).toThrow(/jwksUrl/);
  });

  it('derives the AuthKit issuers from the client: the kit issuer verifies by default', async () => {
    const principal = await authorizer().verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    expect(principal.userId).toBe('user_alice');
  });

  it('rejects an issuer that is not exactly configured', async () => {
    const strict = authorizer({ issuer: 'https://api.workos.com' });
    await expect(strict.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }))).rejects.toBeInstanceOf(
      InvalidTokenError,
    );
  });
});

describe('verify', () => {
  it('returns the principal from the AuthKit claims', async () => {
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice', role: 'member', permissions: ['a:b'] });
    const principal = await authorizer().verify(token);
    expect(principal).toMatchObject({
      userId: 'user_alice',
      organizationId: 'org_acme',
      organizationMembershipId: 'om_alice',
      role: 'member',
      permissions: ['a:b'],
    });
    expect(principal.claims.sub).toBe('user_alice');
    expect(Object.isFrozen(principal)).toBe(true);
  });

  it('reads claims from configured names: exact (namespaced) keys first, then dot paths', async () => {
    const token = kit.mintToken({
      user: 'user_alice',
      organization: 'org_acme',
      claims: { 'https://acme.test/om': 'om_alice', ext: { perms: ['x:y'] } },
    });
    const principal = await authorizer({
      claims: { organizationMembershipId: 'https://acme.test/om', permissions: 'ext.perms' },
    }).verify(token);
    expect(principal.organizationMembershipId).toBe('om_alice');
    expect(principal.permissions).toEqual(['x:y']);
  });

  it('remembers a verified token: the JWKS is fetched once', async () => {
    const authz = authorizer();
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    await authz.verify(token);
    kit.inject('jwks', { status: 500 });
    await expect(authz.verify(token)).resolves.toMatchObject({ userId: 'user_alice' });
    expect(kit.calls('jwks')).toBe(1);
  });

  it('answers 503 (not 401) when the JWKS times out', async () => {
    kit.inject('jwks', { delay: 2_000 });
    const error = await authorizer({ timeout: 200 })
      .verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
  });
});

describe('check', () => {
  const alice = async (authz: Authorizer) => authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));

  it('grants from the token with zero API calls', async () => {
    const authz = authorizer();
    const principal = await authz.verify(kit.mintToken({ user: 'user_bob', organization: 'org_acme', permissions: ['project:edit'] }));
    kit.resetCalls();
    const decision = await authz.check(principal, 'project:edit', project('p-1'));
    expect(decision).toMatchObject({ allowed: true, source: 'token', permission: 'project:edit' });
    expect(kit.calls()).toBe(0);
  });

  it('reports every decision to onDecision, and ignores an observer that throws', async () => {
    const seen: Decision[] = [];
    const authz = authorizer({
      onDecision: (decision) => {
        seen.push(decision);
        throw new Error('observer bug');
      },
    });
    const decision = await authz.check(await alice(authz), 'project:edit', project('p-1'));
    expect(decision.allowed).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      allowed: true,
      source: 'api',
      permission: 'project:edit',
      resource: project('p-1'),
      membership: 'om_alice',
    });
    expect(seen[0]!.latency).toBeGreaterThanOrEqual(0);
  });

  it('never serves one membership, permission or resource the answer of another', async () => {
    const authz = authorizer();
    const principalA = await alice(authz);
    const principalB = await authz.verify(kit.mintToken({ user: 'user_bob', organization: 'org_acme' }));
    expect((await authz.check(principalA, 'project:edit', project('p-1'))).allowed).toBe(true);
    expect((await authz.check(principalB, 'project:edit', project('p-1'))).allowed).toBe(false);
    expect((await authz.check(principalA, 'project:delete', project('p-1'))).allowed).toBe(false);
    expect((await authz.check(principalA, 'project:edit', project('p-2'))).allowed).toBe(false);
    expect((await authz.check(principalA, 'project:edit', { type: 'app', externalId: 'p-1' })).allowed).toBe(false);
    expect(kit.calls('check')).toBe(5);
  });

  it('coalesces identical concurrent cold checks into one call', async () => {
    const authz = authorizer();
    const principal = await alice(authz);
    kit.inject('check', { delay: 100 });
    const decisions = await Promise.all(Array.from({ length: 50 }, () => authz.check(principal, 'project:edit', project('p-1'))));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(kit.calls('check')).toBe(1);
  });

  it('remembers denials for a shorter time than grants', async () => {
    const authz = authorizer({ cache: { ttl: 5_000, negativeTtl: 150, max: 100 } });
    const principal = await alice(authz);
    await authz.check(principal, 'project:edit', project('p-1'));
    await authz.check(principal, 'project:delete', project('p-1'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await authz.check(principal, 'project:edit', project('p-1'))).source).toBe('cache');
    expect((await authz.check(principal, 'project:delete', project('p-1'))).source).toBe('api');
  });

  it('does not remember failures: the next check after an outage asks again', async () => {
    const authz = authorizer();
    const principal = await alice(authz);
    kit.inject('check', { status: 502 });
    await expect(authz.check(principal, 'project:edit', project('p-1'))).rejects.toBeInstanceOf(ServiceUnavailableError);
    kit.clearFaults();
    expect(await authz.check(principal, 'project:edit', project('p-1'))).toMatchObject({ allowed: true, source: 'api' });
  });

  it('retries one brief transient failure inside the budget', async () => {
    const authz = authorizer();
    const principal = await alice(authz);
    kit.inject('check', { status: 503, times: 1 });
    expect((await authz.check(principal, 'project:edit', project('p-1'))).allowed).toBe(true);
    expect(kit.calls('check')).toBe(2);
  });

  it('keeps a slow upstream inside the timeout budget', async () => {
    const authz = authorizer({ timeout: 300 });
    const principal = await alice(authz);
    kit.inject('check', { delay: 5_000 });
    const started = Date.now();
    const error = await authz.check(principal, 'project:edit', project('p-1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('calls a spent budget a timeout, whichever timer fires first (ours or the SDK\'s)', async () => {
    const authz = authorizer({ timeout: 200 });
    const principal = await alice(authz);
    kit.inject('check', { delay: 5_000, times: 5 });
    for (let i = 0; i < 5; i++) {
      const pending = authz.check(principal, 'project:edit', project(`p-spent-${i}`)).catch((e: unknown) => e);
      await sleep(20); // the request is in flight: both timers are set
      const blockedUntil = Date.now() + 300;
      while (Date.now() < blockedUntil); // both fall due in the same turn
      const error = await pending;
      expect(error).toBeInstanceOf(ServiceUnavailableError);
      expect((error as ServiceUnavailableError).reason).toBe('timeout');
    }
  });

  it('answers 503 for a 429 whose Retry-After does not fit the budget, carrying it on', async () => {
    const authz = authorizer({ timeout: 500 });
    const principal = await alice(authz);
    kit.inject('check', { status: 429, headers: { 'Retry-After': '7' } });
    const error = (await authz.check(principal, 'project:edit', project('p-1')).catch((e: unknown) => e)) as ServiceUnavailableError;
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error.headers['Retry-After']).toBe('7');
    expect(kit.calls('check')).toBe(1);
  });

  it('answers 503 for answers that are not { authorized: boolean }', async () => {
    const authz = authorizer();
    const principal = await alice(authz);
    for (const body of [{}, { authorized: 'true' }, '<html>oops</html>']) {
      kit.clearFaults();
      kit.inject('check', { status: 200, body });
      const error = await authz.check(principal, 'project:edit', project('p-1')).catch((e: unknown) => e);
      expect(error, JSON.stringify(body)).toBeInstanceOf(ServiceUnavailableError);
    }
  });

  it('denies without a membership: none in the org, lookup off, or no org in the token', async () => {
    const authz = authorizer();
    const stranger = await authz.verify(kit.mintToken({ user: 'user_carol', organization: 'org_acme' }));
    expect(await authz.check(stranger, 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'no_membership' });
    const noLookup = authorizer({ membershipLookup: false });
    expect(await noLookup.check(await alice(noLookup), 'project:edit', project('p-1'))).toMatchObject({
      allowed: false,
      reason: 'no_membership',
    });
    const orgless = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', claims: { org_id: undefined } }));
    expect(await authz.check(orgless, 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'no_organization' });
  });

  it('looks the membership up for who the principal is now: an app principal changed after use gets no one else\'s', async () => {
    const authz = authorizer();
    const mutable = { kind: 'user' as const, userId: 'user_alice', organizationId: 'org_acme', permissions: [] as string[], claims: {} };
    expect(await authz.check(mutable, 'project:edit', project('p-1'))).toMatchObject({ allowed: true });
    mutable.userId = 'user_carol'; // in org_acme's directory, without a membership
    expect(await authz.check(mutable, 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'no_membership' });
    mutable.userId = 'user_alice';
    mutable.organizationId = 'org_other';
    expect(await authz.check(mutable, 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'no_membership' });
  });

  it('rejects malformed arguments with a clear TypeError', async () => {
    const authz = authorizer();
    const principal = await alice(authz);
    await expect(authz.check(principal, '', project('p-1'))).rejects.toThrow(/permission/);
    await expect(authz.check(principal, 'project:edit', { type: 'project' } as never)).rejects.toThrow(/resource/);
    await expect(authz.check({} as never, 'project:edit')).rejects.toThrow(/principal/);
  });
});
