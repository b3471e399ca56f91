import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as expressGuard from '../adapters/express.js';
import * as koaGuard from '../adapters/koa.js';
import { createAuthorizer, ServiceUnavailableError, type Authorizer, type Principal } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import express from 'express';
import Koa from 'koa';
import Router from '@koa/router';
import { closeServer } from './support/apps.js';
import { bearer, expectGuardAnswer } from './support/hardening.js';
import { testSeed } from './support/model.js';

let kit: TestKit;
let authz: Authorizer;

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
});
afterAll(() => kit.close());
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
  authz.clearCache();
});

const p1 = { type: 'project', externalId: 'p-1' };
const p2 = { type: 'project', externalId: 'p-2' };
/** Alice: member of org_acme (workspace:view in the token), workspace-admin on ws-1 (so project:edit on p-1). */
const alice = (): Promise<Principal> => authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));

describe('can', () => {
  it('answers the decision as a boolean, and rejects only when it cannot decide', async () => {
    const principal = await alice();
    expect(await authz.can(principal, 'project:edit', p1)).toBe(true);
    expect(await authz.can(principal, 'project:edit', p2)).toBe(false);
    expect(await authz.can(principal, 'workspace:view')).toBe(true);
    kit.inject('check', { status: 500 });
    await expect(authz.can(principal, 'app:deploy', p1)).rejects.toThrow(ServiceUnavailableError);
  });
});

describe('checkMany', () => {
  it('answers in input order, each as check would, identical entries decided once', async () => {
    const principal = await alice();
    const decisions = await authz.checkMany(principal, [
      { permission: 'project:edit', resource: p1 },
      { permission: 'workspace:view' },
      { permission: 'project:edit', resource: p2 },
      { permission: 'project:edit', resource: { ...p1 } },
      { permission: 'billing:view' },
    ]);
    expect(decisions.map((d) => [d.permission, d.allowed, d.source])).toEqual([
      ['project:edit', true, 'api'],
      ['workspace:view', true, 'token'],
      ['project:edit', false, 'api'],
      ['project:edit', true, 'api'],
      ['billing:view', false, 'token'],
    ]);
    expect(decisions[3]).toBe(decisions[0]);
    expect(kit.calls('check')).toBe(2);
  });

  it('runs upstream calls in parallel, `concurrency` at once', async () => {
    const principal = await alice();
    kit.inject('check', { delay: 150 });
    const checks = ['project:edit', 'project:view', 'app:deploy', 'workspace:edit'].map((permission) => ({ permission, resource: p1 }));
    let started = Date.now();
    await authz.checkMany(principal, checks);
    const parallel = Date.now() - started;
    authz.clearCache();
    started = Date.now();
    await authz.checkMany(principal, checks, { concurrency: 2 });
    const twoAtOnce = Date.now() - started;
    expect(parallel).toBeLessThan(300);
    expect(twoAtOnce).toBeGreaterThanOrEqual(300);
  });

  it('has one budget for the whole call, and fails whole when any entry cannot be decided', async () => {
    const tight = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: 400 });
    const principal = await tight.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));
    kit.inject('check', { delay: 250 });
    const checks = ['project:edit', 'project:view'].map((permission) => ({ permission, resource: p1 }));
    // One at a time, the second call starts 250 ms into a 400 ms budget.
    await expect(tight.checkMany(principal, checks, { concurrency: 1 })).rejects.toMatchObject({ reason: 'timeout' });
    kit.clearFaults();
    kit.inject('check', { status: 500, times: 2 });
    await expect(tight.checkMany(principal, checks.slice(0, 1).concat({ permission: 'app:deploy', resource: p2 }))).rejects.toThrow(ServiceUnavailableError);
  });

  it('refuses bad input before asking anything', async () => {
    const principal = await alice();
    kit.resetCalls();
    for (const bad of [undefined, 'project:edit', [{ permission: '' }], [{ permission: 'project:edit', resource: { id: '' } }], [null]]) {
      await expect(authz.checkMany(principal, bad as never)).rejects.toThrow(TypeError);
    }
    await expect(authz.checkMany(principal, [{ permission: 'project:edit', resource: p1 }], { concurrency: 0 })).rejects.toThrow(TypeError);
    expect(kit.calls()).toBe(0);
  });
});

describe('membershipOf', () => {
  it('is the claim, else the looked-up active membership (remembered), else null', async () => {
    expect(await authz.membershipOf(await alice())).toBe('om_alice');
    const lookedUp = await authz.verify(kit.mintToken({ user: 'user_bob', organization: 'org_acme' }));
    expect(await authz.membershipOf(lookedUp)).toBe('om_bob');
    expect(await authz.membershipOf(lookedUp)).toBe('om_bob');
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    const inactive = await authz.verify(kit.mintToken({ user: 'user_dan', organization: 'org_acme' }));
    expect(await authz.membershipOf(inactive)).toBeNull();
  });
});

function expressApp() {
  const app = express();
  const reply = (req: express.Request, res: express.Response) => res.json({ permission: req.authDecision?.permission, source: req.authDecision?.source });
  app.get('/any/:id', expressGuard.requireAnyPermission(authz, ['project:view', 'project:edit', 'workspace:view'], { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }), reply);
  app.get('/any-fga/:id', expressGuard.requireAnyPermission(authz, ['project:view', 'project:edit'], { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }), reply);
  app.get('/all/:id', expressGuard.requireAllPermissions(authz, ['workspace:view', 'project:edit', 'project:view'], { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }), reply);
  app.get('/all-ok/:id', expressGuard.requireAllPermissions(authz, ['workspace:view', 'project:edit'], { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }), reply);
  return app.listen(0, '127.0.0.1');
}

function koaApp() {
  const app = new Koa();
  const router = new Router();
  const reply = (ctx: Koa.Context) => {
    ctx.body = { permission: ctx.state.authDecision?.permission, source: ctx.state.authDecision?.source };
  };
  const resource = (ctx: Koa.Context) => ({ type: 'project', externalId: String(ctx.params.id) });
  router.get('/any/:id', koaGuard.requireAnyPermission(authz, ['project:view', 'project:edit', 'workspace:view'], { resource }), reply);
  router.get('/any-fga/:id', koaGuard.requireAnyPermission(authz, ['project:view', 'project:edit'], { resource }), reply);
  router.get('/all/:id', koaGuard.requireAllPermissions(authz, ['workspace:view', 'project:edit', 'project:view'], { resource }), reply);
  router.get('/all-ok/:id', koaGuard.requireAllPermissions(authz, ['workspace:view', 'project:edit'], { resource }), reply);
  app.use(router.routes());
  return app.listen(0, '127.0.0.1');
}

describe.each([
  ['express', expressApp, expressGuard.requireAnyPermission, expressGuard.requireAllPermissions],
  ['koa', koaApp, koaGuard.requireAnyPermission, koaGuard.requireAllPermissions],
] as const)('%s requireAnyPermission / requireAllPermissions', (_name, build, requireAny, requireAll) => {
  let server: ReturnType<typeof expressApp>;
  beforeAll(() => {
    server = build();
  });
  afterAll(() => closeServer(server));
  const token = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });

  it('any: the token is tried first, with no call', async () => {
    const res = await request(server).get('/any/p-1').set(bearer(token()));
    expect(res.body).toEqual({ permission: 'workspace:view', source: 'token' });
    expect(kit.calls('check')).toBe(0);
  });

  it('any: then FGA in the given order until one grants', async () => {
    const res = await request(server).get('/any-fga/p-1').set(bearer(token()));
    expect(res.body).toEqual({ permission: 'project:edit', source: 'api' });
    expect(kit.calls('check')).toBe(2);
    expectGuardAnswer(await request(server).get('/any-fga/p-2').set(bearer(token())), 403, 'forbidden');
  });

  it('all: every permission must be granted; a 403 names the first that is not', async () => {
    const ok = await request(server).get('/all-ok/p-1').set(bearer(token()));
    expect(ok.status).toBe(200);
    const denied = await request(server).get('/all/p-1').set(bearer(token()));
    expectGuardAnswer(denied, 403, 'forbidden');
    expect(denied.body.permission).toBe('project:view');
  });

  it('an empty list or a non-string slug is refused when the guard is made', () => {
    for (const bad of [[], ['project:view', 3], 'project:view', ['']]) {
      expect(() => requireAny(authz, bad as never)).toThrow(TypeError);
      expect(() => requireAll(authz, bad as never)).toThrow(TypeError);
    }
  });
});
