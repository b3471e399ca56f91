import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, InvalidTokenError, ServiceUnavailableError, type AuthorizerOptions, type Decision, type Principal } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { buildExpressApp, closeServer, type AppUnderTest, type RouteSpec } from './support/apps.js';
import { bearer } from './support/hardening.js';
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

/** Every upstream call a user-only step would make: the membership lookup, and reading a membership. */
const userLookups = () => kit.calls('listOrganizationMemberships') + kit.calls('getOrganizationMembership');

function authorizer(options: AuthorizerOptions = {}) {
  const decisions: Decision[] = [];
  const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, onDecision: (d) => void decisions.push(d), ...options });
  return { authz, decisions };
}

const project = (externalId: string) => ({ type: 'project', externalId });
const machineToken = (clientId = 'client_reporting', extra: Partial<Parameters<TestKit['mintMachineToken']>[0]> = {}) =>
  kit.mintMachineToken({ clientId, organization: 'org_acme', ...extra });

describe('the machines option', () => {
  it('is checked at creation, with TypeErrors', () => {
    const create = (machines: unknown) => () => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, machines: machines as AuthorizerOptions['machines'] });
    expect(create(null)).toThrow(/machines must be \{ issuer/);
    expect(create('https://acme.authkit.app')).toThrow(TypeError);
    for (const issuer of [undefined, '', 'acme.authkit.app', 'ftp://acme.authkit.app', 42]) {
      expect(create({ issuer })).toThrow(/machines\.issuer must be the AuthKit domain/);
    }
    expect(create({ issuer: kit.issuer })).toThrow(/also a user issuer/);
    expect(() => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, issuer: ['https://a.test', 'https://b.test'], machines: { issuer: 'https://b.test' } })).toThrow(
      /also a user issuer/,
    );
    expect(create({ issuer: 'https://acme.authkit.app', jwksUrl: 'not a url' })).toThrow(/machines\.jwksUrl must be an absolute URL/);
    expect(create({ issuer: 'https://acme.authkit.app', membership: 'om_1' })).toThrow(/machines\.membership must be a function/);
    expect(create({ issuer: 'https://acme.authkit.app', jwksUrl: new URL('https://acme.authkit.app/keys'), membership: () => null })).not.toThrow();
  });

  it('defaults jwksUrl to <issuer>/oauth2/jwks, with or without a trailing slash', async () => {
    for (const issuer of [kit.machineIssuer, `${kit.machineIssuer}/`]) {
      kit.resetCalls();
      const { authz } = authorizer({ machines: { issuer } });
      const principal = await authz.verify(machineToken('client_x', { claims: { iss: issuer } }));
      expect(principal.kind).toBe('machine');
      expect(kit.calls('machineJwks')).toBe(1);
      expect(kit.calls('jwks')).toBe(0);
    }
  });
});

describe('verifying machine tokens', () => {
  it('accepts them when machines is configured: kind machine, sub the client id, permissions from the token', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    const principal = await authz.verify(machineToken('client_reporting', { permissions: ['workspace:view'] }));
    expect(principal).toMatchObject({ kind: 'machine', userId: 'client_reporting', organizationId: 'org_acme', permissions: ['workspace:view'] });
    expect(principal.sessionId).toBeUndefined();
    const user = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));
    expect(user).toMatchObject({ kind: 'user', userId: 'user_alice', organizationMembershipId: 'om_alice' });
  });

  it('refuses them with 401 invalid_token when machines is not configured, like any unknown issuer', async () => {
    const { authz } = authorizer();
    const token = machineToken();
    await expect(authz.verify(token)).rejects.toBeInstanceOf(InvalidTokenError);
    const app = buildExpressApp(authz, [{ path: '/me' }]);
    try {
      const res = await request(app.server).get('/me').set(bearer(token));
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
    } finally {
      await closeServer(app.server);
    }
    expect(kit.calls('machineJwks')).toBe(0);
    // The same token is good: configured, it is accepted.
    expect((await authorizer({ machines: { issuer: kit.machineIssuer } }).authz.verify(token)).kind).toBe('machine');
  });

  it('verifies each issuer only with its own keys: neither key signs for the other issuer', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    // A user-issuer token signed with the AuthKit domain's key, and a machine-issuer token signed with the user key.
    const userSignedByMachineKey = kit.mintMachineToken({ clientId: 'user_alice', organization: 'org_acme', claims: { iss: kit.issuer, sid: 'session_x' } });
    const now = Math.floor(Date.now() / 1000);
    const machineSignedByUserKey = kit.signToken({ iss: kit.machineIssuer, sub: 'client_x', org_id: 'org_acme', iat: now, exp: now + 300 });
    await expect(authz.verify(userSignedByMachineKey)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(authz.verify(machineSignedByUserKey)).rejects.toBeInstanceOf(InvalidTokenError);
    // Each key does sign for its own issuer.
    expect((await authz.verify(machineToken('client_x'))).kind).toBe('machine');
    expect((await authz.verify(kit.signToken({ iss: kit.issuer, sub: 'user_alice', org_id: 'org_acme', iat: now, exp: now + 300 }))).kind).toBe('user');
  });

  it('refuses an expired machine token, and one from the future', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    await expect(authz.verify(machineToken('client_x', { expiresIn: -10 }))).rejects.toThrow(/expired/);
    const later = Math.floor(Date.now() / 1000) + 600;
    await expect(authz.verify(machineToken('client_x', { claims: { iat: later, exp: later + 300 } }))).rejects.toThrow(/future/);
  });

  it('reads the scope claim as permissions too (space-separated); a scope that is not a string is malformed', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    const principal = await authz.verify(machineToken('client_x', { permissions: ['workspace:view'], claims: { scope: 'project:view  workspace:view' } }));
    expect(principal.permissions).toEqual(['workspace:view', 'project:view']);
    await expect(authz.verify(machineToken('client_x', { claims: { scope: ['project:view'] } }))).rejects.toThrow(/malformed claim/);
    // A user token's scope is not read.
    const user = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', permissions: [], claims: { scope: 'project:view' } }));
    expect(user.permissions).toEqual([]);
  });

  it('never reads a membership claim from a machine token', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    const principal = await authz.verify(machineToken('client_x', { claims: { organization_membership_id: 'om_alice' } }));
    expect(principal.organizationMembershipId).toBeUndefined();
  });

  it('remembers a verified machine token with its kind: the machine JWKS is fetched once', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    const token = machineToken();
    const first = await authz.verify(token);
    const second = await authz.authenticate(`Bearer ${token}`);
    expect(second).toBe(first);
    expect(second.kind).toBe('machine');
    expect(kit.calls('machineJwks')).toBe(1);
  });

  it('answers 503 when the machine JWKS cannot be fetched; user tokens go on', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer } });
    kit.inject('machineJwks', { status: 500 });
    await expect(authz.verify(machineToken())).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect((await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }))).kind).toBe('user');
    kit.clearFaults();
    expect((await authz.verify(machineToken())).kind).toBe('machine');
  });
});

describe('deciding for machines (Express)', () => {
  const routes: RouteSpec[] = [
    { path: '/me' },
    { path: '/billing', permission: 'billing:view' },
    { path: '/projects/:id', method: 'patch', permission: 'project:edit', resource: (id) => project(id) },
  ];
  const seen: Principal[] = [];
  const mapped = new Map([
    ['client_deployer', 'om_alice'],
    ['client_viewer', 'om_bob'],
  ]);
  let plain: ReturnType<typeof authorizer> & { app: AppUnderTest };
  let mapping: ReturnType<typeof authorizer> & { app: AppUnderTest };

  beforeAll(() => {
    const withoutMapping = authorizer({ machines: { issuer: kit.machineIssuer } });
    plain = { ...withoutMapping, app: buildExpressApp(withoutMapping.authz, routes) };
    const withMapping = authorizer({
      machines: {
        issuer: kit.machineIssuer,
        membership: async (principal) => {
          seen.push(principal);
          return mapped.get(principal.userId) ?? null;
        },
      },
    });
    mapping = { ...withMapping, app: buildExpressApp(withMapping.authz, routes) };
  });
  afterAll(async () => {
    await closeServer(plain.app.server);
    await closeServer(mapping.app.server);
  });
  afterEach(() => {
    plain.decisions.length = 0;
    mapping.decisions.length = 0;
    seen.length = 0;
  });

  it('grants from the token permissions alone, with no call to WorkOS; the handler sees kind machine', async () => {
    const token = machineToken('client_billing', { permissions: ['billing:view'] });
    const res = await request(plain.app.server).get('/billing').set(bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'token', auth: { kind: 'machine', userId: 'client_billing', organizationId: 'org_acme' } });
    expect(kit.calls()).toBe(kit.calls('machineJwks'));
  });

  it('denies a permission the token lacks with 403 machine_without_membership, and never looks it up as a user', async () => {
    // The client id is even a user id with a membership: no lookup by it may run.
    const token = machineToken('user_alice', { claims: { organization_membership_id: 'om_alice' } });
    const res = await request(plain.app.server).patch('/projects/p-1').set(bearer(token));
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect(plain.decisions).toEqual([expect.objectContaining({ allowed: false, permission: 'project:edit', reason: 'machine_without_membership', userId: 'user_alice' })]);
    expect(plain.decisions[0]?.membership).toBeUndefined();
    expect(userLookups()).toBe(0);
    expect(kit.calls('check')).toBe(0);
    // membershipOf and listings go the same way.
    const principal = await plain.authz.verify(token);
    expect(await plain.authz.membershipOf(principal)).toBeNull();
    expect(await plain.authz.listAccessible(principal, 'project:edit', { parent: { type: 'workspace', externalId: 'ws-1' } })).toEqual({ resources: [], complete: true });
    expect(userLookups()).toBe(0);
  });

  it('runs FGA checks for the membership machines.membership maps a machine to', async () => {
    const res = await request(mapping.app.server).patch('/projects/p-1').set(bearer(machineToken('client_deployer')));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ source: 'api', auth: { kind: 'machine', userId: 'client_deployer' } });
    expect(mapping.decisions).toEqual([expect.objectContaining({ allowed: true, membership: 'om_alice', source: 'api' })]);
    expect(seen).toEqual([expect.objectContaining({ kind: 'machine', userId: 'client_deployer' })]);
    expect(kit.calls('check')).toBe(1);
    expect(userLookups()).toBe(0);

    // Another mapping, without the role on that project: WorkOS says no.
    const denied = await request(mapping.app.server).patch('/projects/p-1').set(bearer(machineToken('client_viewer')));
    expect(denied.status).toBe(403);
    expect(mapping.decisions[1]).toMatchObject({ allowed: false, membership: 'om_bob', reason: 'not_granted' });
    // Not mapped: as without a mapping.
    const unmapped = await request(mapping.app.server).patch('/projects/p-1').set(bearer(machineToken('client_other')));
    expect(unmapped.status).toBe(403);
    expect(mapping.decisions[2]).toMatchObject({ allowed: false, reason: 'machine_without_membership' });
    expect(userLookups()).toBe(0);
    expect(await mapping.authz.membershipOf(await mapping.authz.verify(machineToken('client_deployer')))).toBe('om_alice');
  });

  it('does not call the mapping for a user; user tokens are decided as before', async () => {
    const alice = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    const res = await request(mapping.app.server).patch('/projects/p-1').set(bearer(alice));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ auth: { kind: 'user', userId: 'user_alice' } });
    expect(mapping.decisions).toEqual([expect.objectContaining({ allowed: true, membership: 'om_alice' })]);
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    expect(seen).toEqual([]);
  });

  it('explains a machine decision without a user lookup', async () => {
    const unmapped = await plain.authz.explain(await plain.authz.verify(machineToken('user_alice')), 'project:edit', project('p-1'));
    expect(unmapped).toMatchObject({ allowed: false, reason: 'machine_without_membership', membership: null });
    expect(unmapped.notes.join('\n')).toMatch(/machines\.membership maps it to no membership/);
    const explained = await mapping.authz.explain(await mapping.authz.verify(machineToken('client_deployer')), 'project:edit', project('p-1'));
    expect(explained).toMatchObject({ allowed: true, membership: { id: 'om_alice', from: 'mapping' } });
    expect(kit.calls('listOrganizationMemberships')).toBe(0);
  });

  it('fails closed when the mapping answers something that is not a membership id', async () => {
    const { authz } = authorizer({ machines: { issuer: kit.machineIssuer, membership: () => 42 as unknown as string } });
    const principal = await authz.verify(machineToken());
    await expect(authz.check(principal, 'project:edit', project('p-1'))).rejects.toThrow(/machines\.membership must return/);
    expect(kit.calls('check')).toBe(0);
  });
});
