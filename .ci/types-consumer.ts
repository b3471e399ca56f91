// Copied into scratch projects by .ci/types-check.sh: a user's file that imports every subpath of the
// packed package, so its public types are checked with the user's compiler settings.
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa from 'koa';
import {
  createAuthorizer,
  isFgaGuardError,
  toErrorResponse,
  type AuthorizedRequest,
  type Authorizer,
  type Decision,
  type ErrorResponse,
  type Principal,
  type ResourceRef,
} from 'fga-guard';
import * as expressGuard from 'fga-guard/express';
import * as fastifyGuard from 'fga-guard/fastify';
import * as honoGuard from 'fga-guard/hono';
import * as koaGuard from 'fga-guard/koa';
import { createRedisStore, type RedisStore } from 'fga-guard/redis';
import { createTestKit, demoSeed, SeedError, type TestKit } from 'fga-guard/testing';

export async function consumer(): Promise<void> {
  const kit: TestKit = await createTestKit({ seed: demoSeed });
  const authz: Authorizer = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
  const store: RedisStore = createRedisStore({ url: 'redis://127.0.0.1:6379' });
  const shared: Authorizer = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, store });
  await shared.invalidate({ membershipId: 'om_1' });
  await store.close();
  const project = (id: string): ResourceRef => ({ type: 'project', externalId: id });

  const app = express();
  app.get('/me', expressGuard.requireAuth(authz), (req, res) => {
    const principal: Principal | undefined = req.auth;
    res.json({ user: principal?.userId });
  });
  app.get('/projects/:id', expressGuard.requirePermission(authz, 'project:edit', { resource: (req) => project(String(req.params.id)) }), (req, res) => {
    const decision: Decision | undefined = req.authDecision;
    res.json({ source: decision?.source });
  });

  const koa = new Koa();
  koa.use(koaGuard.requirePermission(authz, 'project:edit', { resource: (ctx) => project(String(ctx.query.id)), onError: 'throw' }));
  koa.use((ctx) => {
    ctx.body = { user: ctx.state.auth?.userId, source: ctx.state.authDecision?.source };
  });

  const fastify = Fastify();
  fastify.get('/projects/:id', { preHandler: fastifyGuard.requirePermission(authz, 'project:edit', { resource: (req) => project((req.params as { id: string }).id) }) }, async (req) => {
    const decision: Decision | undefined = req.authDecision;
    return { user: req.auth?.userId, source: decision?.source };
  });
  fastify.addHook('preHandler', fastifyGuard.requireAuth(authz, { onError: 'throw' }));

  const hono = new Hono();
  hono.get('/projects/:id', honoGuard.requireAnyPermission(authz, ['project:view', 'project:edit'], { resource: (c) => project(String(c.req.param('id'))) }), (c) => {
    const principal: Principal = c.get('auth');
    const decision: Decision = c.get('authDecision');
    return c.json({ user: principal.userId, source: decision.source });
  });
  const typedHono = new Hono<honoGuard.FgaGuardEnv>();
  typedHono.use(honoGuard.requireAuth(authz, { onError: 'throw' }));

  const outcome: AuthorizedRequest = await authz.authorizeRequest(`Bearer ${kit.mintToken({ user: 'user_alice', organization: 'org_acme' })}`, 'workspace:view');
  const error: unknown = new SeedError('example');
  const response: ErrorResponse | undefined = isFgaGuardError(error) ? toErrorResponse(error) : undefined;
  console.log(outcome.decision.allowed, response?.status, kit.jwksUrl);
  await kit.close();
}
