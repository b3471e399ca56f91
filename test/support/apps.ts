import Router from '@koa/router';
import express from 'express';
import express4 from 'express4';
import Koa from 'koa';
import Koa2 from 'koa2';
import type { Server } from 'node:http';
import * as expressGuard from '../../adapters/express.js';
import * as koaGuard from '../../adapters/koa.js';
import type { Authorizer, Principal, ResourceRef } from '../../src/index.js';

/** A route of a test app: which guard, and how the resource is found. */
export interface RouteSpec {
  path: string;
  method?: 'get' | 'patch' | 'options';
  permission?: string;
  /** A fixed reference, or a function of the route's `:id` param. */
  resource?: ResourceRef | ((id: string) => ResourceRef | Promise<ResourceRef> | null);
  /** Throw from the resolver (an application error): from an async resolver, or (`'sync'`) a plain one. */
  resolverThrows?: boolean | 'sync';
  onError?: 'respond' | 'pass';
  allowPreflight?: boolean;
}

export interface AppUnderTest {
  framework: 'express' | 'koa';
  server: Server;
  /** Errors that reached the app's own error handler. */
  handledErrors: unknown[];
  /** How many times a resolver ran. */
  resolverCalls: { count: number };
}

const APP_ERROR = 'resolver exploded';

/** The principal as the handler sees it, echoed as JSON. */
function echo(auth: Principal | undefined) {
  return { userId: auth?.userId, organizationId: auth?.organizationId, permissions: auth?.permissions };
}

export function buildExpressApp(authz: Authorizer, routes: RouteSpec[], createApp = express): AppUnderTest {
  const app = createApp();
  const handledErrors: unknown[] = [];
  const resolverCalls = { count: 0 };
  for (const route of routes) {
    const onError = route.onError === 'pass' ? 'next' : 'respond';
    const guard = route.permission
      ? expressGuard.requirePermission(authz, route.permission, {
          onError,
          allowPreflight: route.allowPreflight,
          resource: resolverFor(route, resolverCalls, (req: express.Request) => String(req.params.id)),
        })
      : expressGuard.requireAuth(authz, { onError, allowPreflight: route.allowPreflight });
    app[route.method ?? 'get'](route.path, guard, (req, res) => {
      res.json({ ok: true, auth: echo(req.auth), source: req.authDecision?.source });
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
    const onError = route.onError === 'pass' ? 'throw' : 'respond';
    const guard = route.permission
      ? koaGuard.requirePermission(authz, route.permission, {
          onError,
          allowPreflight: route.allowPreflight,
          resource: resolverFor(route, resolverCalls, (ctx: Koa.Context) => String(ctx.params.id)),
        })
      : koaGuard.requireAuth(authz, { onError, allowPreflight: route.allowPreflight });
    router[route.method ?? 'get'](route.path, guard, (ctx) => {
      ctx.body = { ok: true, auth: echo(ctx.state.auth), source: ctx.state.authDecision?.source };
    });
  }
  app.use(router.routes());
  return { framework: 'koa', server: app.listen(0, '127.0.0.1'), handledErrors, resolverCalls };
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

export const frameworks = [
  { name: 'express 5', build: buildExpressApp },
  { name: 'express 4', build: (authz: Authorizer, routes: RouteSpec[]) => buildExpressApp(authz, routes, express4) },
  { name: 'koa 3', build: buildKoaApp },
  { name: 'koa 2', build: (authz: Authorizer, routes: RouteSpec[]) => buildKoaApp(authz, routes, Koa2) },
] as const;

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
