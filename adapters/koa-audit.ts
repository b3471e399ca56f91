// auditRoutes for Koa: reads @koa/router's layers (and a Koa app's middleware list), read only.
import { assertAuditOptions, finishAudit, type AuditOptions, type FoundRoute, type RouteAudit, type ScopedGuard } from '../src/audit.js';
import { guardInfoOf } from '../src/guards.js';

interface RouterLayer {
  methods: string[];
  path: unknown;
  stack: unknown[];
  regexp?: RegExp;
}

interface RouterLike {
  stack: RouterLayer[];
}

const isRouter = (value: unknown): value is RouterLike =>
  typeof value === 'object' && value !== null && Array.isArray((value as { stack?: unknown }).stack) && typeof (value as { routes?: unknown }).routes === 'function';

function walkRouter(router: RouterLike, inherited: readonly ScopedGuard[], found: FoundRoute[]): void {
  const guards = [...inherited];
  for (const layer of router.stack) {
    if (layer.methods.length === 0) {
      // router.use(): middleware for the routes its path matches.
      const { regexp } = layer;
      for (const handler of layer.stack) {
        const info = guardInfoOf(handler);
        if (info) guards.push({ info, applies: (path) => regexp === undefined || regexp.test(path) });
      }
      continue;
    }
    const path = String(layer.path);
    // HEAD rides along with GET.
    const methods = layer.methods.includes('GET') ? layer.methods.filter((method) => method !== 'HEAD') : layer.methods;
    for (const method of methods) found.push({ method, path, inherited: [...guards], handlers: layer.stack });
  }
}

/**
 * Every route of a @koa/router Router (or of the routers mounted on a Koa app, after the app's own
 * guards) with its method, path and the fga-guard guards that run before its handler, and the routes with none.
 */
export function auditRoutes(routerOrApp: unknown, options: AuditOptions = {}): RouteAudit {
  assertAuditOptions(options);
  const found: FoundRoute[] = [];
  if (isRouter(routerOrApp)) {
    walkRouter(routerOrApp, [], found);
  } else {
    const middleware = (routerOrApp as { middleware?: unknown } | null)?.middleware;
    if (!Array.isArray(middleware)) throw new TypeError('fga-guard: auditRoutes takes a @koa/router Router or a Koa app');
    const guards: ScopedGuard[] = [];
    for (const entry of middleware) {
      const info = guardInfoOf(entry);
      if (info) guards.push({ info, applies: () => true });
      // router.routes() returns a dispatcher that names its router.
      const router = (entry as { router?: unknown }).router;
      if (isRouter(router)) walkRouter(router, guards, found);
    }
  }
  return finishAudit(found, options);
}
