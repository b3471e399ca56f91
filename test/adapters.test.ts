import Fastify from 'fastify';
import Fastify4 from 'fastify4';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as fastifyGuard from '../adapters/fastify.js';
import * as honoGuard from '../adapters/hono.js';
import { createAuthorizer, ForbiddenError, ServiceUnavailableError, type Authorizer } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { closeServer, frameworks, type AppUnderTest, type RouteSpec } from './support/apps.js';
import { bearer, expectGuardAnswer } from './support/hardening.js';
import { testSeed } from './support/model.js';

const routes: RouteSpec[] = [
  { path: '/me' },
  { path: '/billing', permission: 'billing:view' },
  { path: '/workspaces/:id', permission: 'workspace:view', resource: (id) => ({ type: 'workspace', externalId: id }) },
  { path: '/projects/:id', method: 'patch', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/apps/:id/deploy', permission: 'app:deploy', resource: async (id) => ({ type: 'app', externalId: id }) },
  { path: '/stored/ws1', permission: 'project:edit', resource: { id: 'authz_resource_ws1' } },
  { path: '/fixed/p-1', permission: 'project:edit', resource: { type: 'project', externalId: 'p-1' } },
  { path: '/broken/:id', permission: 'project:edit', resolverThrows: true },
  { path: '/broken-sync/:id', permission: 'project:edit', resolverThrows: 'sync' },
  { path: '/passing/:id', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }), onError: 'pass' },
  { path: '/passing-auth', onError: 'pass' },
  { path: '/cors/:id', method: 'options', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }), allowPreflight: true },
  { path: '/any/:id', anyOf: ['project:view', 'project:edit', 'workspace:view'], resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/any-fga/:id', anyOf: ['project:view', 'project:edit'], resource: async (id) => ({ type: 'project', externalId: id }) },
  { path: '/all/:id', allOf: ['workspace:view', 'project:edit', 'project:view'], resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/all-ok/:id', allOf: ['workspace:view', 'project:edit'], resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/any-passing/:id', anyOf: ['project:view'], resource: (id) => ({ type: 'project', externalId: id }), onError: 'pass' },
  { path: '/fresh/:id', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }), consistency: 'fresh' },
  { path: '/fresh-all/:id', allOf: ['project:edit', 'app:deploy'], resource: (id) => ({ type: 'project', externalId: id }), consistency: 'fresh' },
];

describe.each(frameworks)('$name adapter', ({ build, guards }) => {
  let kit: TestKit;
  let authz: Authorizer;
  let app: AppUnderTest;

  beforeAll(async () => {
    kit = await createTestKit({ seed: testSeed });
    authz = createAuthorizer({
      workos: kit.workos(),
      clientId: kit.clientId,
      cache: { ttl: 60_000, negativeTtl: 60_000, max: 100 },
      machines: { issuer: kit.machineIssuer, membership: (principal) => (principal.userId === 'client_deployer' ? 'om_alice' : null) },
    });
    app = await build(authz, routes);
  });
  afterAll(async () => {
    await closeServer(app.server);
    await kit.close();
  });
  beforeEach(() => {
    kit.clearFaults();
    kit.resetCalls();
    authz.clearCache();
    app.handledErrors.length = 0;
    app.resolverCalls.count = 0;
  });

  const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
  const bob = () => kit.mintToken({ user: 'user_bob', organization: 'org_acme' });

  describe('step 1: the bearer token', () => {
    it('answers 401 with a bare Bearer challenge when there is no Authorization header', async () => {
      const res = await request(app.server).get('/me');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
      expect(res.body).toEqual({ error: 'unauthorized', message: 'Authentication required' });
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('treats another scheme as no credentials (401, no error code)', async () => {
      const res = await request(app.server).get('/me').set('Authorization', 'Basic dXNlcjpwYXNz');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('answers 400 invalid_request for an empty bearer and for two tokens', async () => {
      for (const header of ['Bearer', 'Bearer   ', `Bearer ${alice()} ${alice()}`]) {
        const res = await request(app.server).get('/me').set('Authorization', header);
        expect(res.status, header).toBe(400);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_request"/);
      }
    });

    it('accepts the scheme in any case and ignores ?access_token=', async () => {
      const ok = await request(app.server).get('/me').set('Authorization', `bearer ${alice()}`);
      expect(ok.status).toBe(200);
      expect(ok.body.auth).toEqual({ kind: 'user', userId: 'user_alice', organizationId: 'org_acme', permissions: ['workspace:view'] });
      const query = await request(app.server).get(`/me?access_token=${alice()}`);
      expect(query.status).toBe(401);
    });
  });

  describe('step 2: verification', () => {
    it('answers 401 invalid_token for a token that does not verify', async () => {
      const expired = kit.mintToken({ user: 'user_alice', organization: 'org_acme', expiresIn: -60 });
      for (const token of ['not-a-jwt', expired, `${alice()}x`]) {
        const res = await request(app.server).get('/me').set(bearer(token));
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
        expect(res.body.error).toBe('invalid_token');
        expect(JSON.stringify(res.body)).not.toContain(token);
      }
      expect(kit.calls('check')).toBe(0);
    });

    it('answers 503 with Retry-After, never 401, when the JWKS cannot be fetched', async () => {
      const fresh = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
      const freshApp = await build(fresh, [{ path: '/me' }]);
      try {
        kit.inject('jwks', { status: 500 });
        const down = await request(freshApp.server).get('/me').set(bearer(alice()));
        expect(down.status).toBe(503);
        expect(down.headers['retry-after']).toMatch(/^\d+$/);
        expect(down.body.error).toBe('unavailable');
        kit.clearFaults();
        const back = await request(freshApp.server).get('/me').set(bearer(alice()));
        expect(back.status).toBe(200);
      } finally {
        await closeServer(freshApp.server);
      }
    });
  });

  describe('step 3: permissions in the token', () => {
    it('allows from the token alone on a resource named by external id: no API call', async () => {
      const token = kit.mintToken({ user: 'user_bob', organization: 'org_acme', permissions: ['project:edit'] });
      const res = await request(app.server).patch('/projects/p-1').set(bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.source).toBe('token');
      expect(kit.calls()).toBe(0);
      // The resolver runs: the token's permissions hold only for a resource of its organization.
      expect(app.resolverCalls.count).toBe(1);
    });

    it('grants a stored resource id from the token only inside the token organization', async () => {
      // Carol (org_globex) holds project:edit org-wide; authz_resource_ws1 is org_acme's.
      const carol = kit.mintToken({ user: 'user_carol', organization: 'org_globex', permissions: ['project:edit'] });
      const foreign = await request(app.server).get('/stored/ws1').set(bearer(carol));
      expect(foreign.status).toBe(403);
      expect(kit.calls('check')).toBe(1);

      const bob = kit.mintToken({ user: 'user_bob', organization: 'org_acme', permissions: ['project:edit'] });
      kit.resetCalls();
      for (let i = 0; i < 2; i++) {
        const own = await request(app.server).get('/stored/ws1').set(bearer(bob));
        expect(own.status).toBe(200);
        expect(own.body.source).toBe('token');
      }
      // The resource's organization is asked once (carol's request learnt it already), never the check.
      expect(kit.calls('getResource')).toBe(0);
      expect(kit.calls('check')).toBe(0);
    });

    it('matches permissions exactly: look-alikes do not grant', async () => {
      const token = kit.mintToken({ user: 'user_bob', organization: 'org_acme', permissions: ['billing:view:x', 'billing', 'Billing:view'] });
      const res = await request(app.server).get('/billing').set(bearer(token));
      expect(res.status).toBe(403);
    });
  });

  describe('step 4: no resource', () => {
    it('answers 403 with the permission when the token lacks it and the route names no resource', async () => {
      const res = await request(app.server).get('/billing').set(bearer(alice()));
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: 'forbidden', message: 'Permission denied', permission: 'billing:view' });
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(kit.calls()).toBe(0);
    });
  });

  describe('steps 5–8: FGA check', () => {
    it('allows a permission inherited from a role on an ancestor (workspace → project → app)', async () => {
      const project = await request(app.server).patch('/projects/p-1').set(bearer(alice()));
      expect(project.status).toBe(200);
      expect(project.body.source).toBe('api');
      const deploy = await request(app.server).get('/apps/a-1/deploy').set(bearer(alice()));
      expect(deploy.status).toBe(200);
    });

    it('denies a member without the role, and another organization', async () => {
      expect((await request(app.server).patch('/projects/p-1').set(bearer(bob()))).status).toBe(403);
      const carol = kit.mintToken({ user: 'user_carol', organization: 'org_globex' });
      expect((await request(app.server).patch('/projects/p-1').set(bearer(carol))).status).toBe(403);
      expect((await request(app.server).patch('/projects/p-2').set(bearer(carol))).status).toBe(200);
    });

    it("consistency: 'fresh' asks WorkOS on every request (membership and check), for one permission and for all of several", async () => {
      for (let i = 0; i < 2; i++) {
        expect((await request(app.server).get('/fresh/p-1').set(bearer(alice()))).status).toBe(200);
        expect((await request(app.server).get('/fresh-all/p-1').set(bearer(alice()))).status).toBe(200);
      }
      expect(kit.calls('check')).toBe(6);
      // One lookup per request: the decisions of one request share it.
      expect(kit.calls('listOrganizationMemberships')).toBe(4);
    });

    it('looks the membership up once, then serves the decision from the cache', async () => {
      await request(app.server).patch('/projects/p-1').set(bearer(alice()));
      const again = await request(app.server).patch('/projects/p-1').set(bearer(alice()));
      expect(again.status).toBe(200);
      expect(again.body.source).toBe('cache');
      expect(kit.calls('listOrganizationMemberships')).toBe(1);
      expect(kit.calls('check')).toBe(1);
    });

    it('uses the membership claim when the token carries one (no lookup)', async () => {
      const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });
      expect((await request(app.server).patch('/projects/p-1').set(bearer(token))).status).toBe(200);
      expect(kit.calls('listOrganizationMemberships')).toBe(0);
      expect(kit.calls('check')).toBe(1);
    });

    it('denies an inactive membership', async () => {
      const dan = kit.mintToken({ user: 'user_dan', organization: 'org_acme', membership: 'om_dan' });
      expect((await request(app.server).patch('/projects/p-1').set(bearer(dan))).status).toBe(403);
    });

    it('checks stored resource ids and fixed references', async () => {
      expect((await request(app.server).get('/stored/ws1').set(bearer(alice()))).status).toBe(200);
      expect((await request(app.server).get('/fixed/p-1').set(bearer(alice()))).status).toBe(200);
      expect((await request(app.server).get('/stored/ws1').set(bearer(bob()))).status).toBe(403);
    });

    it('answers 403, not 404, for a resource WorkOS does not know', async () => {
      const res = await request(app.server).patch('/projects/no-such-project').set(bearer(alice()));
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('forbidden');
    });

    it('answers 503 with Retry-After when the check API fails, and recovers when it clears', async () => {
      kit.inject('check', { status: 500 });
      const down = await request(app.server).patch('/projects/p-1').set(bearer(alice()));
      expect(down.status).toBe(503);
      expect(down.headers['retry-after']).toMatch(/^\d+$/);
      expect(down.body).toEqual({ error: 'unavailable', message: 'Authorization is temporarily unavailable' });
      kit.clearFaults();
      expect((await request(app.server).patch('/projects/p-1').set(bearer(alice()))).status).toBe(200);
    });
  });

  describe('errors for the application', () => {
    it('hands a throwing resolver (async or not) to the framework error handling', async () => {
      for (const path of ['/broken/p-1', '/broken-sync/p-1']) {
        app.handledErrors.length = 0;
        const res = await request(app.server).get(path).set(bearer(alice()));
        expect(res.status, path).toBe(500);
        expect(res.body.handledBy).toBe('app');
        expect((app.handledErrors[0] as Error).message).toBe('resolver exploded');
      }
    });

    it('passes its own errors on when asked to, with status and headers set', async () => {
      const denied = await request(app.server).get('/passing/p-1').set(bearer(bob()));
      expect(denied.status).toBe(403);
      expect(denied.body.handledBy).toBe('app');
      expect(app.handledErrors[0]).toBeInstanceOf(ForbiddenError);
      const unauthenticated = await request(app.server).get('/passing-auth');
      expect(unauthenticated.status).toBe(401);
      kit.inject('check', { status: 503 });
      await request(app.server).get('/passing/p-1').set(bearer(alice()));
      expect(app.handledErrors.at(-1)).toBeInstanceOf(ServiceUnavailableError);
    });

    it('lets a CORS preflight through untouched when allowed', async () => {
      const res = await request(app.server)
        .options('/cors/p-1')
        .set('Origin', 'https://app.example')
        .set('Access-Control-Request-Method', 'PATCH');
      expect(res.status).toBe(200);
      expect(res.body.auth.userId).toBeUndefined();
      const plain = await request(app.server).options('/cors/p-1');
      expect(plain.status).toBe(401);
    });
  });
  describe('machine callers', () => {
    const machine = (clientId: string, permissions?: string[]) => kit.mintMachineToken({ clientId, organization: 'org_acme', permissions });

    it('decides from the token alone, or for the mapped membership; never looks a machine up as a user', async () => {
      const fromToken = await request(app.server).patch('/projects/p-1').set(bearer(machine('client_ci', ['project:edit'])));
      expect(fromToken.status).toBe(200);
      expect(fromToken.body).toMatchObject({ source: 'token', auth: { kind: 'machine', userId: 'client_ci' } });
      expectGuardAnswer(await request(app.server).patch('/projects/p-1').set(bearer(machine('client_ci'))), 403, 'forbidden');
      expect(kit.calls('check')).toBe(0);
      const mapped = await request(app.server).patch('/projects/p-1').set(bearer(machine('client_deployer')));
      expect(mapped.status).toBe(200);
      expect(mapped.body).toMatchObject({ source: 'api', auth: { kind: 'machine' } });
      expect(kit.calls('check')).toBe(1);
      expect(kit.calls('listOrganizationMemberships')).toBe(0);
      const user = await request(app.server).get('/me').set(bearer(alice()));
      expect(user.body.auth.kind).toBe('user');
    });
  });

  describe('several permissions', () => {
    const member = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });

    it('any: the token is tried first, with no call', async () => {
      const res = await request(app.server).get('/any/p-1').set(bearer(member()));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ permission: 'workspace:view', source: 'token', auth: { userId: 'user_alice' } });
      expect(kit.calls('check')).toBe(0);
    });

    it('any: then FGA in the given order until one grants (async resolver)', async () => {
      const res = await request(app.server).get('/any-fga/p-1').set(bearer(member()));
      expect(res.body).toMatchObject({ permission: 'project:edit', source: 'api' });
      expect(kit.calls('check')).toBe(2);
      const denied = await request(app.server).get('/any-fga/p-2').set(bearer(member()));
      expectGuardAnswer(denied, 403, 'forbidden');
      expect(denied.body.permission).toBe('project:view');
    });

    it('all: every permission must be granted; a 403 names the first that is not', async () => {
      const ok = await request(app.server).get('/all-ok/p-1').set(bearer(member()));
      expect(ok.status).toBe(200);
      expect(ok.body.auth.userId).toBe('user_alice');
      const denied = await request(app.server).get('/all/p-1').set(bearer(member()));
      expectGuardAnswer(denied, 403, 'forbidden');
      expect(denied.body.permission).toBe('project:view');
    });

    it('passes a denial on to the app when asked to', async () => {
      const res = await request(app.server).get('/any-passing/p-1').set(bearer(member()));
      expect(res.status).toBe(403);
      expect(res.body.handledBy).toBe('app');
      expect(app.handledErrors[0]).toBeInstanceOf(ForbiddenError);
    });
  });

  describe('bad guard arguments', () => {
    it('refuses a bad permission, list or resource when the guard is made (TypeError)', () => {
      for (const bad of [[], ['project:view', 3], 'project:view', ['']]) {
        expect(() => guards.requireAnyPermission(authz, bad as never, {})).toThrow(TypeError);
        expect(() => guards.requireAllPermissions(authz, bad as never, {})).toThrow(TypeError);
      }
      for (const bad of ['', 3, undefined]) expect(() => guards.requirePermission(authz, bad as never, {})).toThrow(TypeError);
      for (const resource of [{ type: '', externalId: 'p-1' }, { type: 'project' }, 'p-1']) {
        expect(() => guards.requirePermission(authz, 'project:edit', { resource: resource as never })).toThrow(TypeError);
        expect(() => guards.requireAnyPermission(authz, ['project:edit'], { resource: resource as never })).toThrow(TypeError);
      }
      for (const consistency of ['strong', 1, null]) {
        expect(() => guards.requirePermission(authz, 'project:edit', { consistency: consistency as never })).toThrow(TypeError);
        expect(() => guards.requireAllPermissions(authz, ['project:edit'], { consistency: consistency as never })).toThrow(TypeError);
      }
    });
  });
});

/** onError: 'throw' with no error handler of the app's own: the framework's default renders fga-guard's answer. */
describe('the frameworks\' own error handling of onError: \'throw\'', () => {
  let kit: TestKit;
  let authz: Authorizer;
  beforeAll(async () => {
    kit = await createTestKit({ seed: testSeed });
    authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
  });
  afterAll(() => kit.close());
  const bob = () => kit.mintToken({ user: 'user_bob', organization: 'org_acme' });

  it.each([
    ['fastify 5', Fastify],
    ['fastify 4', Fastify4],
  ])('%s: the default error handler answers with the status and headers', async (_name, createApp) => {
    const app = createApp();
    app.get('/billing', { preHandler: fastifyGuard.requirePermission(authz, 'billing:view', { onError: 'throw' }) }, async () => ({ ok: true }));
    await app.ready();
    try {
      const res = await request(app.server).get('/billing').set(bearer(bob()));
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="insufficient_scope"/);
      expect(res.body).toMatchObject({ statusCode: 403, code: 'forbidden', message: 'Permission denied' });
      const anonymous = await request(app.server).get('/billing');
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toBe('Bearer realm="api"');
    } finally {
      await app.close();
    }
  });

  it('hono: the HTTPException carries the same status, headers and body', async () => {
    const app = new Hono();
    app.get('/billing', honoGuard.requirePermission(authz, 'billing:view', { onError: 'throw' }), (c) => c.json({ ok: true }));
    let thrown: unknown;
    app.onError((error, c) => {
      thrown = error;
      return error instanceof HTTPException ? error.getResponse() : c.text('unexpected', 500);
    });
    const res = await app.request('/billing', { headers: bearer(bob()) });
    expect(thrown).toBeInstanceOf(HTTPException);
    expect((thrown as HTTPException).status).toBe(403);
    expect((thrown as HTTPException).cause).toBeInstanceOf(ForbiddenError);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="insufficient_scope"/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'forbidden', message: 'Permission denied', permission: 'billing:view' });

    // Without an onError of the app's own, Hono's default renders the exception's response too.
    const plain = new Hono();
    plain.get('/me', honoGuard.requireAuth(authz, { onError: 'throw' }), (c) => c.json({ ok: true }));
    const anonymous = await plain.request('/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(await anonymous.json()).toEqual({ error: 'unauthorized', message: 'Authentication required' });
  });
});
