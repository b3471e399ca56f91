// auditRoutes for Express 4 and 5: reads the app's router stack (framework internals, read only).
import { assertAuditOptions, finishAudit, underPrefix, type AuditOptions, type FoundRoute, type RouteAudit, type ScopedGuard } from '../src/audit.js';
import { guardInfoOf } from '../src/guards.js';

interface Layer {
  handle?: unknown;
  route?: { path: unknown; methods: Record<string, boolean>; stack: Array<{ method?: string; handle: unknown }> };
  /** Express 5 (router 2): the mount path. */
  rawPath?: unknown;
  /** Express 4: the mount path, compiled. */
  regexp?: RegExp & { fast_slash?: boolean };
  keys?: Array<{ name: string | number }>;
}

const stackOf = (value: unknown): Layer[] | undefined => {
  const stack = (value as { stack?: unknown } | null)?.stack;
  return Array.isArray(stack) ? (stack as Layer[]) : undefined;
};

/** The router of an app (Express 4 keeps it in `_router`, Express 5 in `router`), or the router itself. */
function rootStack(app: unknown): Layer[] {
  const candidate = app as { _router?: unknown; router?: unknown; stack?: unknown };
  const direct = stackOf(candidate);
  if (direct) return direct;
  if (candidate._router) return stackOf(candidate._router) ?? [];
  let router: unknown;
  try {
    // Express 4's `app.router` is a getter that throws; Express 5's returns the router.
    router = candidate.router;
  } catch {
    return [];
  }
  const stack = stackOf(router);
  if (stack === undefined && typeof app !== 'function') throw new TypeError('fga-guard: auditRoutes takes an Express app or Router');
  return stack ?? [];
}

/** Where a `use` layer is mounted, relative to its router ('' for everywhere). */
function mountPath(layer: Layer): string {
  if (typeof layer.rawPath === 'string') return layer.rawPath === '/' ? '' : layer.rawPath;
  const regexp = layer.regexp;
  if (regexp === undefined || regexp.fast_slash) return '';
  const keys = [...(layer.keys ?? [])];
  return regexp.source
    .replace(/^\^/, '')
    .replace(/\\\/\?\(\?=\\\/\|\$\)$/, '')
    .replace(/\(\?:\\\/\(\[\^\\\/\]\+\?\)\)/g, () => `/:${keys.shift()?.name ?? 'param'}`)
    .replace(/\\\//g, '/');
}

const joinPath = (prefix: string, path: string) => `${prefix}${path.startsWith('/') ? '' : '/'}${path}`.replace(/\/{2,}/g, '/');

function walk(stack: Layer[], prefix: string, inherited: readonly ScopedGuard[], found: FoundRoute[]): void {
  const guards = [...inherited];
  for (const layer of stack) {
    if (layer.route) {
      const path = joinPath(prefix, String(layer.route.path));
      const methods = Object.keys(layer.route.methods).filter((method) => layer.route?.methods[method]);
      for (const method of methods) {
        const handlers = layer.route.stack.filter((entry) => entry.method === undefined || entry.method === method).map((entry) => entry.handle);
        found.push({ method: method === '_all' ? 'ALL' : method.toUpperCase(), path, inherited: [...guards], handlers });
      }
      continue;
    }
    const mounted = joinPath(prefix, mountPath(layer)).replace(/\/$/, '');
    const nested = stackOf(layer.handle);
    if (nested && typeof layer.handle === 'function') {
      walk(nested, mounted, guards, found);
      continue;
    }
    const info = guardInfoOf(layer.handle);
    if (info) guards.push({ info, applies: underPrefix(mounted) });
  }
}

/**
 * Every route of an Express 4/5 app (or Router) with its method, path and the fga-guard guards that
 * run before its handler (app- and router-level `use` included), and the routes with none.
 */
export function auditRoutes(app: unknown, options: AuditOptions = {}): RouteAudit {
  assertAuditOptions(options);
  const found: FoundRoute[] = [];
  walk(rootStack(app), '', [], found);
  return finishAudit(found, options);
}
