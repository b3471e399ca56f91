import { createAdaptorServer } from '@hono/node-server';
import Router from '@koa/router';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import type { Server } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as expressGuard from '../adapters/express.js';
import * as fastifyGuard from '../adapters/fastify.js';
import * as honoGuard from '../adapters/hono.js';
import * as koaGuard from '../adapters/koa.js';
import { createAuthorizer, ForbiddenError, type Authorizer, type Principal } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
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

/** What a handler does by hand: a check, and a ForbiddenError when it is denied. */
async function requireEdit(principal: Principal | undefined, id: string): Promise<void> {
  const decision = await authz.check(principal!, 'project:edit', { type: 'project', externalId: id });
  if (!decision.allowed) throw new ForbiddenError(authz.realm, decision.permission);
}

function expressApp() {
  const app = express();
  app.get('/projects/:id', expressGuard.requireAuth(authz), async (req, res) => {
    await requireEdit(req.auth, String(req.params.id));
    res.json({ ok: true });
  });
  app.get('/guarded', expressGuard.requirePermission(authz, 'billing:view', { onError: 'next' }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/boom', () => {
    throw new Error('app failure');
  });
  app.use(expressGuard.errorHandler());
  // The app's own handler sees everything that is not fga-guard's.
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ handledBy: 'app', message: error.message });
  });
  return app.listen(0, '127.0.0.1');
}

function koaApp() {
  const app = new Koa();
  const router = new Router();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.status = 500;
      ctx.body = { handledBy: 'app', message: (error as Error).message };
    }
  });
  app.use(koaGuard.errorHandler());
  router.get('/projects/:id', koaGuard.requireAuth(authz), async (ctx) => {
    await requireEdit(ctx.state.auth, String(ctx.params.id));
    ctx.body = { ok: true };
  });
  router.get('/guarded', koaGuard.requirePermission(authz, 'billing:view', { onError: 'throw' }), (ctx) => {
    ctx.body = { ok: true };
  });
  router.get('/boom', () => {
    throw new Error('app failure');
  });
  app.use(router.routes());
  return app.listen(0, '127.0.0.1');
}

async function fastifyApp() {
  const app = Fastify();
  // The app's own handler, at the root, sees everything that is not fga-guard's: fga-guard's, in the
  // routes' scope, hands it on.
  app.setErrorHandler(async (error: Error, _req, reply) => reply.code(500).send({ handledBy: 'app', message: error.message }));
  await app.register(async (scope) => {
    scope.setErrorHandler(fastifyGuard.errorHandler());
    scope.get('/projects/:id', { preHandler: fastifyGuard.requireAuth(authz) }, async (req) => {
      await requireEdit(req.auth, (req.params as { id: string }).id);
      return { ok: true };
    });
    scope.get('/guarded', { preHandler: fastifyGuard.requirePermission(authz, 'billing:view', { onError: 'throw' }) }, async () => ({ ok: true }));
    scope.get('/boom', async () => {
      throw new Error('app failure');
    });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server;
}

async function honoApp() {
  const app = new Hono();
  // The app's own handler sees everything that is not fga-guard's.
  app.onError(honoGuard.errorHandler((error, c) => c.json({ handledBy: 'app', message: error.message }, 500)));
  app.get('/projects/:id', honoGuard.requireAuth(authz), async (c) => {
    await requireEdit(c.get('auth'), String(c.req.param('id')));
    return c.json({ ok: true });
  });
  app.get('/guarded', honoGuard.requirePermission(authz, 'billing:view', { onError: 'throw' }), (c) => c.json({ ok: true }));
  app.get('/boom', () => {
    throw new Error('app failure');
  });
  return (createAdaptorServer({ fetch: app.fetch }) as Server).listen(0, '127.0.0.1');
}

describe.each([
  ['express', expressApp],
  ['koa', koaApp],
  ['fastify', fastifyApp],
  ['hono', honoApp],
])('%s errorHandler()', (_name, build) => {
  let server: Server;
  beforeAll(async () => {
    server = await build();
  });
  afterAll(() => closeServer(server));

  const bob = () => kit.mintToken({ user: 'user_bob', organization: 'org_acme' });
  const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme' });

  it('renders a ForbiddenError thrown in a handler the way the guards do', async () => {
    const token = bob();
    const res = await request(server).get('/projects/p-1').set(bearer(token));
    expectGuardAnswer(res, 403, 'forbidden', [token]);
    expect(res.body).toEqual({ error: 'forbidden', message: 'Permission denied', permission: 'project:edit' });
    expect((await request(server).get('/projects/p-1').set(bearer(alice()))).status).toBe(200);
  });

  it('renders the errors a guard passes on', async () => {
    expectGuardAnswer(await request(server).get('/guarded'), 401, 'unauthorized');
    expectGuardAnswer(await request(server).get('/guarded').set(bearer(alice())), 403, 'forbidden');
  });

  it('passes every other error on, untouched', async () => {
    const res = await request(server).get('/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ handledBy: 'app', message: 'app failure' });
  });
});
