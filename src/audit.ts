// `auditRoutes`: which fga-guard guards stand in front of each route. The adapters read their
// framework's route table; this turns what they found into the report, and warns or throws.
import { guardInfoOf, type GuardInfo } from './guards.js';

/** One method of one route, and the fga-guard guards that run before its handler. */
export interface AuditedRoute {
  readonly method: string;
  readonly path: string;
  readonly guards: readonly GuardInfo[];
  /** Listed in `allow` (a public route). */
  readonly allowed: boolean;
}

export interface RouteAudit {
  /** Every route, in registration order. */
  readonly routes: readonly AuditedRoute[];
  /** Routes with no guard that `allow` does not list. */
  readonly unguarded: readonly AuditedRoute[];
  /** Nothing unguarded. */
  readonly ok: boolean;
}

export interface AuditOptions {
  /**
   * Public routes: a path (`'/health'`), a path with `*` for any rest (`'/public/*'`), either after a
   * method (`'GET /health'`), or a RegExp tested against the path.
   */
  allow?: ReadonlyArray<string | RegExp>;
  /** 'warn': log the unguarded routes (through `logger`, default console.warn); 'throw': throw an Error naming them. Default: only return the report. */
  mode?: 'warn' | 'throw';
  logger?: (message: string) => void;
}

/** A guard in effect for the routes after it: those under `scope` (a path prefix, or a test of the path). */
export interface ScopedGuard {
  readonly info: GuardInfo;
  readonly applies: (path: string) => boolean;
}

/** What an adapter found: a route, and the guards of its own handler chain. */
export interface FoundRoute {
  readonly method: string;
  readonly path: string;
  readonly inherited: readonly ScopedGuard[];
  readonly handlers: readonly unknown[];
}

/** A guard mounted on a path prefix applies to that path and below it. */
export function underPrefix(prefix: string): (path: string) => boolean {
  const base = prefix.replace(/\/+$/, '');
  return (path) => base === '' || path === base || path.startsWith(`${base}/`);
}

export function assertAuditOptions(options: unknown): asserts options is AuditOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('fga-guard: auditRoutes options must be an object');
  const { allow, mode, logger } = options as AuditOptions;
  if (allow !== undefined && (!Array.isArray(allow) || !allow.every((entry) => typeof entry === 'string' || entry instanceof RegExp))) {
    throw new TypeError('fga-guard: allow must be an array of paths, patterns or RegExps');
  }
  if (mode !== undefined && mode !== 'warn' && mode !== 'throw') throw new TypeError("fga-guard: mode must be 'warn' or 'throw'");
  if (logger !== undefined && typeof logger !== 'function') throw new TypeError('fga-guard: logger must be a function');
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function allowRule(entry: string | RegExp): (method: string, path: string) => boolean {
  if (entry instanceof RegExp) return (_method, path) => new RegExp(entry.source, entry.flags.replace('g', '')).test(path);
  const [, method, pattern = entry] = /^([A-Za-z]+)\s+(\S.*)$/.exec(entry.trim()) ?? [];
  const regexp = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return (routeMethod, path) => (method === undefined || method.toUpperCase() === routeMethod) && regexp.test(path);
}

export function finishAudit(found: readonly FoundRoute[], options: AuditOptions): RouteAudit {
  const rules = (options.allow ?? []).map(allowRule);
  const routes = found.map(({ method, path, inherited, handlers }): AuditedRoute => {
    const guards = [
      ...inherited.filter((guard) => guard.applies(path)).map((guard) => guard.info),
      ...handlers.map(guardInfoOf).filter((info): info is GuardInfo => info !== undefined),
    ];
    return { method, path, guards, allowed: rules.some((rule) => rule(method, path)) };
  });
  const unguarded = routes.filter((route) => route.guards.length === 0 && !route.allowed);
  const audit = { routes, unguarded, ok: unguarded.length === 0 };
  if (unguarded.length > 0 && options.mode !== undefined) {
    const message =
      `fga-guard: ${unguarded.length} route${unguarded.length === 1 ? ' has' : 's have'} no fga-guard guard: ` +
      `${unguarded.map((route) => `${route.method} ${route.path}`).join(', ')}. Guard them, or list the public ones in auditRoutes(app, { allow: [...] }).`;
    if (options.mode === 'throw') throw new Error(message);
    (options.logger ?? ((text: string) => console.warn(text)))(message);
  }
  return audit;
}

/** `requirePermission(project:edit)`, for a log line. */
export function describeGuard(info: GuardInfo): string {
  return info.kind === 'requireAuth' ? 'requireAuth' : `${info.kind}(${info.permissions.join(', ')})`;
}
