import { createAdaptorServer } from '@hono/node-server';
import Router from '@koa/router';
import express from 'express';
import express4 from 'express4';
import Fastify, { type FastifyRequest } from 'fastify';
import Fastify4 from 'fastify4';
import { Hono, type Context as HonoContext, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import Koa from 'koa';
import Koa2 from 'koa2';
import { once } from 'node:events';
import type { Server } from 'node:http';
import * as expressGuard from '../../adapters/express.js';
import * as fastifyGuard from '../../adapters/fastify.js';
import * as honoGuard from '../../adapters/hono.js';
import * as koaGuard from '../../adapters/koa.js';
import type { Authorizer, Decision, Principal, ResourceRef, ResourceResolver } from '../../src/index.js';

/** A route of a test app: which guard, and how the resource is found. */
export interface RouteSpec {
  path: string;
  method?: 'get' | 'patch' | 'options';
  permission?: string;
  /** Any one of these permissions (requireAnyPermission), or all of them (requireAllPermissions). */
  anyOf?: string[];
  allOf?: string[];
  /** A fixed reference, or a function of the route's `:id` param. */
  resource?: ResourceRef | ((id: string) => ResourceRef | Promise<ResourceRef> | null);
  /** Throw from the resolver (an application error): from an async resolver, or (`'sync'`) a plain one. */
  resolverThrows?: boolean | 'sync';
  onError?: 'respond' | 'pass';
  allowPreflight?: boolean;
  consistency?: 'cached' | 'fresh';
}

export interface AppUnderTest {
  framework: 'express' | 'koa' | 'fastify' | 'hono';
  /** A listening server on loopback. */
  server: Server;
  /** Errors that reached the app's own error handler. */
  handledErrors: unknown[];
  /** How many times a resolver ran. */
  resolverCalls: { count: number };
}

const APP_ERROR = 'resolver exploded';

/** What every test app's handler answers: the principal and the decision as the handler sees them. */
function echo(auth: Principal | undefined, decision: Decision | undefined) {
  return {
    ok: true,
    auth: { kind: auth?.kind, userId: auth?.userId, organizationId: auth?.organizationId, permissions: auth?.permissions },
    source: decision?.source,
    permission: decision?.permission,
  };
}

interface GuardOptionsOf<OnError, Context> {
  onError?: OnError;
  allowPreflight?: boolean;
  resource?: ResourceRef | ResourceResolver<Context>;
  consistency?: 'cached' | 'fresh';
}

/** The four guards of one adapter, as the test apps use them. */
interface Guards<Handler, Context, OnError> {
  requireAuth(authz: Authorizer, options: GuardOptionsOf<OnError, Context>): Handler;
  requirePermission(authz: Authorizer, permission: string, options: GuardOptionsOf<OnError, Context>): Handler;
  requireAnyPermission(authz: Authorizer, permissions: readonly string[], options: GuardOptionsOf<OnError, Context>): Handler;
  requireAllPermissions(authz: Authorizer, permissions: readonly string[], options: GuardOptionsOf<OnError, Context>): Handler;
}

/** The guard a route asks for, made with one adapter's functions. */
function guardFor<Handler, Context, OnError>(
  guards: Guards<Handler, Context, OnError>,
  authz: Authorizer,
  route: RouteSpec,
  passOn: OnError,
  calls: { count: number },
  idOf: (context: Context) => string,
): Handler {
  const options: GuardOptionsOf<OnError, Context> = { allowPreflight: route.allowPreflight };
  if (route.onError === 'pass') options.onError = passOn;
  const resource = resolverFor(route, calls, idOf);
  if (resource !== undefined) options.resource = resource;
  if (route.consistency !== undefined) options.consistency = route.consistency;
  if (route.anyOf) return guards.requireAnyPermission(authz, route.anyOf, options);
  if (route.allOf) return guards.requireAllPermissions(authz, route.allOf, options);
  if (route.permission) return guards.requirePermission(authz, route.permission, options);
  return guards.requireAuth(authz, options);
}

export function buildExpressApp(authz: Authorizer, routes: RouteSpec[], createApp = express): AppUnderTest {
  const app = createApp();
  const handledErrors: unknown[] = [];
  const resolverCalls = { count: 0 };
  for (const route of routes) {
    const guard = guardFor(expressGuard, authz, route, 'next', resolverCalls, (req: express.Request) => String(req.params.id));
    app[route.method ?? 'get'](route.path, guard, (req, res) => {
      res.json(echo(req.auth, req.authDecision));
    });
  }
  app.use((error: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    handledErrors.push(error);
    res.status(error.status ?? 500).json({ handledBy: 'app', status: error.status ?? 500 });
  });
  return { framework: 'express', server: app.listen(0, '127.0.0.1'), handledErrors, resolverCalls };
}

export function buildKoaApp(authz: Authorizer, routes: RouteSpec[], KoaApp = Koa): AppUnderTest {
  const app = new KoaApp();
  const router = new Router();
  const handledErrors: unknown[] = [];
  const resolverCalls = { count: 0 };
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      handledErrors.push(error);
      const status = (error as { status?: number }).status ?? 500;
      ctx.status = status;
      ctx.body = { handledBy: 'app', status };
    }
  });
  for (const route of routes) {
    const guard = guardFor(koaGuard, authz, route, 'throw', resolverCalls, (ctx: Koa.Context) => String(ctx.params.id));
    router[route.method ?? 'get'](route.path, guard, (ctx) => {
      ctx.body = echo(ctx.state.auth, ctx.state.authDecision);
    });
  }
  app.use(router.routes());
  return { framework: 'koa', server: app.listen(0, '127.0.0.1'), handledErrors, resolverCalls };
}

export async function buildFastifyApp(authz: Authorizer, routes: RouteSpec[], createApp = Fastify): Promise<AppUnderTest> {
  const app = createApp();
  const handledErrors: unknown[] = [];
  const resolverCalls = { count: 0 };
  app.setErrorHandler((error, _request, reply) => {
    handledErrors.push(error);
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    void reply.code(status).send({ handledBy: 'app', status });
  });
  for (const route of routes) {
    const guard = guardFor(fastifyGuard, authz, route, 'throw', resolverCalls, (request: FastifyRequest) =>
      String((request.params as { id?: string }).id),
    );
    app.route({
      method: (route.method ?? 'get').toUpperCase() as 'GET' | 'PATCH' | 'OPTIONS',
      url: route.path,
      preHandler: guard,
      handler: async (request) => echo(request.auth, request.authDecision),
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { framework: 'fastify', server: app.server, handledErrors, resolverCalls };
}

export async function buildHonoApp(authz: Authorizer, routes: RouteSpec[]): Promise<AppUnderTest> {
  const app = new Hono<honoGuard.FgaGuardEnv>();
  const handledErrors: unknown[] = [];
  const resolverCalls = { count: 0 };
  app.onError((error, c) => {
    // A guard with onError: 'throw' raises an HTTPException whose cause is fga-guard's error.
    handledErrors.push(error instanceof HTTPException && error.cause !== undefined ? error.cause : error);
    const status = error instanceof HTTPException ? error.status : 500;
    return c.json({ handledBy: 'app', status }, status);
  });
  for (const route of routes) {
    const guard = guardFor<MiddlewareHandler, HonoContext, 'respond' | 'throw'>(honoGuard, authz, route, 'throw', resolverCalls, (c: HonoContext) => String(c.req.param('id')));
    app.on((route.method ?? 'get').toUpperCase(), route.path, guard, (c) => c.json(echo(c.get('auth'), c.get('authDecision'))));
  }
  const server = (createAdaptorServer({ fetch: app.fetch }) as Server).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { framework: 'hono', server, handledErrors, resolverCalls };
}

function resolverFor<Context>(
  route: RouteSpec,
  calls: { count: number },
  idOf: (context: Context) => string,
): ResourceRef | ((context: Context) => Promise<ResourceRef | null>) | undefined {
  const { resource } = route;
  if (typeof resource !== 'function' && !route.resolverThrows) return resource;
  if (route.resolverThrows === 'sync') {
    return () => {
      calls.count += 1;
      throw new Error(APP_ERROR);
    };
  }
  return async (context: Context) => {
    calls.count += 1;
    if (route.resolverThrows) throw new Error(APP_ERROR);
    return typeof resource === 'function' ? resource(idOf(context)) : (resource ?? null);
  };
}

type Build = (authz: Authorizer, routes: RouteSpec[]) => Promise<AppUnderTest>;

/** An adapter's four guards, with its options left loose: for checks that run when a guard is made. */
export type AnyGuards = Guards<unknown, never, string>;

/** Express 5 and Koa 3, built synchronously: the hardening suites run every case through both. */
export const primaryFrameworks = [
  { name: 'express 5', build: buildExpressApp },
  { name: 'koa 3', build: buildKoaApp },
] as const;

/** Every adapter on every supported major: the adapter contract suite runs each case through all of them. */
export const frameworks: readonly { name: string; build: Build; guards: AnyGuards }[] = [
  { name: 'express 5', build: async (authz, routes) => buildExpressApp(authz, routes), guards: expressGuard as AnyGuards },
  { name: 'express 4', build: async (authz, routes) => buildExpressApp(authz, routes, express4), guards: expressGuard as AnyGuards },
  { name: 'koa 3', build: async (authz, routes) => buildKoaApp(authz, routes), guards: koaGuard as AnyGuards },
  { name: 'koa 2', build: async (authz, routes) => buildKoaApp(authz, routes, Koa2), guards: koaGuard as AnyGuards },
  { name: 'fastify 5', build: buildFastifyApp, guards: fastifyGuard as AnyGuards },
  { name: 'fastify 4', build: (authz, routes) => buildFastifyApp(authz, routes, Fastify4), guards: fastifyGuard as AnyGuards },
  { name: 'hono 4', build: buildHonoApp, guards: honoGuard as AnyGuards },
];

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
