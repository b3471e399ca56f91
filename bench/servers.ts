/**
 * The apps under load: one HTTP server per scenario, each in a process of its own with its own
 * authorizer, as separate deployments would be, all with the same route and the same handler.
 */
import { getRequestListener } from '@hono/node-server';
import { trace } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import Router from '@koa/router';
import { WorkOS } from '@workos-inc/node';
import express, { type RequestHandler } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { Hono, type Context } from 'hono';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Koa, { type Middleware } from 'koa';
import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as expressGuard from '../adapters/express.js';
import * as fastifyGuard from '../adapters/fastify.js';
import * as honoGuard from '../adapters/hono.js';
import * as koaGuard from '../adapters/koa.js';
import { createAuthorizer, type Authorizer } from '../src/index.js';
import { auth0Guard } from './auth0.js';
import { AUDIENCE, RESOURCE_PERMISSION, TOKEN_PERMISSION, WARM_PROJECT, type KitInfo, type Scenario } from './shared.js';

const ROUTE = '/projects/:id';

/** A WorkOS SDK client pointed at the kit (the SDK's defaults otherwise, as a user would make it). */
export function kitClient(kit: KitInfo): WorkOS {
  const { hostname, port } = new URL(kit.url);
  return new WorkOS(kit.apiKey, { apiHostname: hostname, port: Number(port), https: false, clientId: kit.clientId });
}

/** The bench's tokens carry an `aud` (for the Auth0 peer): fga-guard is told to require it, as a user would. */
function authorizer(kit: KitInfo): Authorizer {
  return createAuthorizer({ workos: kitClient(kit), clientId: kit.clientId, audience: AUDIENCE });
}

/** What users hand-write today: verify every token, ask WorkOS on every request, remember nothing. */
function naiveExpressGuard(kit: KitInfo): RequestHandler {
  const jwks = createRemoteJWKSet(new URL(kit.jwksUrl));
  const workos = kitClient(kit);
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header?.startsWith('Bearer ')) {
      res.status(401).end();
      return;
    }
    let authorized: boolean;
    try {
      const { payload } = await jwtVerify(header.slice(7), jwks, { issuer: kit.issuer, algorithms: ['RS256'] });
      ({ authorized } = await workos.authorization.check({
        organizationMembershipId: payload.organization_membership_id as string,
        permissionSlug: RESOURCE_PERMISSION,
        resourceExternalId: String(req.params.id),
        resourceTypeSlug: 'project',
      }));
    } catch {
      res.status(401).end();
      return;
    }
    if (!authorized) {
      res.status(403).end();
      return;
    }
    next();
  };
}

async function expressApp(scenario: Scenario, kit: KitInfo): Promise<RequestListener> {
  const app = express();
  const handler: RequestHandler = (_req, res) => {
    res.send('ok');
  };
  switch (scenario.id) {
    case 'bare':
    case 'control':
      app.get(ROUTE, handler);
      break;
    case 'token':
      app.get(ROUTE, expressGuard.requirePermission(authorizer(kit), TOKEN_PERMISSION), handler);
      break;
    case 'warm':
    case 'otel':
    case 'cold':
      app.get(
        ROUTE,
        expressGuard.requirePermission(authorizer(kit), RESOURCE_PERMISSION, {
          resource: (req) => ({ type: 'project', externalId: String(req.params.id) }),
        }),
        handler,
      );
      break;
    case 'naive':
      app.get(ROUTE, naiveExpressGuard(kit), handler);
      break;
    case 'auth0':
      app.get(
        ROUTE,
        await auth0Guard({ issuer: kit.issuer, jwksUri: kit.jwksUrl, audience: AUDIENCE, tokenSigningAlg: 'RS256' }),
        handler,
      );
      break;
  }
  return app;
}

function koaApp(scenario: Scenario, kit: KitInfo): RequestListener {
  const app = new Koa();
  const router = new Router();
  const handler: Middleware = (ctx) => {
    ctx.body = 'ok';
  };
  switch (scenario.id) {
    case 'bare':
    case 'control':
      router.get(ROUTE, handler);
      break;
    case 'token':
      router.get(ROUTE, koaGuard.requirePermission(authorizer(kit), TOKEN_PERMISSION), handler);
      break;
    case 'warm':
    case 'cold':
      router.get(
        ROUTE,
        koaGuard.requirePermission(authorizer(kit), RESOURCE_PERMISSION, {
          resource: (ctx) => ({ type: 'project', externalId: String(ctx.params.id) }),
        }),
        handler,
      );
      break;
    default:
      throw new Error(`no Koa app for ${scenario.id}`);
  }
  app.use(router.routes());
  return app.callback();
}

/** Fastify's own request listener, taken from the server it would make (never listened on). */
async function fastifyApp(scenario: Scenario, kit: KitInfo): Promise<RequestListener> {
  let listener: RequestListener | undefined;
  const app = Fastify({
    serverFactory: (handler) => {
      listener = handler;
      return createServer(handler);
    },
  });
  const handler = async () => 'ok';
  switch (scenario.id) {
    case 'bare':
    case 'control':
      app.get(ROUTE, handler);
      break;
    case 'token':
      app.get(ROUTE, { preHandler: fastifyGuard.requirePermission(authorizer(kit), TOKEN_PERMISSION) }, handler);
      break;
    case 'warm':
      app.get(
        ROUTE,
        {
          preHandler: fastifyGuard.requirePermission(authorizer(kit), RESOURCE_PERMISSION, {
            resource: (req: FastifyRequest) => ({ type: 'project', externalId: (req.params as { id: string }).id }),
          }),
        },
        handler,
      );
      break;
    default:
      throw new Error(`no Fastify app for ${scenario.id}`);
  }
  await app.ready();
  return listener!;
}

/** Hono on Node through @hono/node-server's request listener, as `serve()` would run it. */
function honoApp(scenario: Scenario, kit: KitInfo): RequestListener {
  const app = new Hono();
  const handler = (c: Context) => c.text('ok');
  switch (scenario.id) {
    case 'bare':
    case 'control':
      app.get(ROUTE, handler);
      break;
    case 'token':
      app.get(ROUTE, honoGuard.requirePermission(authorizer(kit), TOKEN_PERMISSION), handler);
      break;
    case 'noop':
      app.get(ROUTE, (_c, next) => next(), handler);
      break;
    case 'header':
      app.get(ROUTE, (c, next) => (c.req.header('authorization') === undefined ? c.text('no header', 401) : next()), handler);
      break;
    case 'warm':
      app.get(
        ROUTE,
        honoGuard.requirePermission(authorizer(kit), RESOURCE_PERMISSION, {
          resource: (c) => ({ type: 'project', externalId: String(c.req.param('id')) }),
        }),
        handler,
      );
      break;
    default:
      throw new Error(`no Hono app for ${scenario.id}`);
  }
  return getRequestListener(app.fetch);
}

async function listenerFor(scenario: Scenario, kit: KitInfo): Promise<RequestListener> {
  switch (scenario.framework) {
    case 'express':
      return expressApp(scenario, kit);
    case 'koa':
      return koaApp(scenario, kit);
    case 'fastify':
      return fastifyApp(scenario, kit);
    case 'hono':
      return honoApp(scenario, kit);
  }
}

/**
 * What every app server does before it serves, whatever its scenario: verify the bench's token
 * (fetching the JWKS) and ask the kit one `authorization.check` (the SDK's `fetch`), with an
 * authorizer of its own that no route uses. A WorkOS app has made outgoing requests by the time it
 * serves; without this, the bare servers would be the only processes that never ran `fetch`, and
 * running it leaves inline caches in Node's own HTTP and stream code megamorphic for the rest of a
 * process's life (most likely through `fetch`'s own streams and emitters). Counted with callgrind
 * (Node 24), a bare Koa server that had verified one token at start-up, and did nothing more for
 * it, spent 1 759 instructions a request more than one that never had (93 498 → 95 257): no
 * guard's per-request work, but more than a quarter of what the token path seemed to add (6 689).
 */
async function startUp(kit: KitInfo): Promise<void> {
  const authz = authorizer(kit);
  const principal = await authz.verify(kit.token);
  await authz.check(principal, RESOURCE_PERMISSION, { type: 'project', externalId: WARM_PROJECT });
}

/** Starts one scenario's server (its own process: a separate deployment); returns its URL. */
export async function startServer(scenario: Scenario, kit: KitInfo): Promise<{ url: string; close(): Promise<void> }> {
  // An app traced by an SDK that samples nothing: registered before any authorizer, as apps do.
  if (scenario.id === 'otel') trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOffSampler() }));
  await startUp(kit);
  const listener = await listenerFor(scenario, kit);
  const server = createServer({ keepAliveTimeout: 60_000 }, listener);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
