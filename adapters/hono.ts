import type { Context, Env, ErrorHandler, MiddlewareHandler, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { requestGate, type AuthorizedRequest, type Authorizer, type Requirement } from '../src/authorizer.js';
import { AUTH_GUARD, routeGuard, severalKind, type RouteOptions } from '../src/route-options.js';
import { tagGuard, type GuardKind } from '../src/guards.js';
import type { AnySlugs, Slugs } from '../src/slugs.js';
import { assertPermissionList } from '../src/batch.js';
import type { Principal } from '../src/claims.js';
import { assertPermission, type Consistency, type Decision, type ResourceResolver } from '../src/decision.js';
import { isFgaGuardError, toErrorResponse, type FgaGuardError } from '../src/errors.js';
import type { ResourceRef } from '../src/resource.js';
import { isPromiseLike, type Settling } from '../src/settling.js';

/** What requireAuth sets: `c.get('auth')`. */
export interface AuthVariables {
  /** The verified caller. */
  auth: Principal;
}

/** What requirePermission and the any/all guards set: `c.get('auth')` and `c.get('authDecision')`. */
export interface FgaGuardVariables extends AuthVariables {
  /** The decision that let the request through. */
  authDecision: Decision;
}

/** For `new Hono<FgaGuardEnv>()`, or to merge into your own env: `{ Variables: FgaGuardVariables & … }`. */
export interface FgaGuardEnv {
  Variables: FgaGuardVariables;
}

export interface GuardOptions {
  /**
   * 'respond' (default): answer 401/403/503 here with a small JSON body.
   * 'throw': throw an `HTTPException` carrying that same response (status, headers, body), with the
   * fga-guard error as its `cause`, for `app.onError`.
   */
  onError?: 'respond' | 'throw';
  /** Let CORS preflight requests (OPTIONS with Access-Control-Request-Method) through unchecked. */
  allowPreflight?: boolean;
}

// Hono's own defaults for a context whose env and path are not known.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyEnv = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyPath = any;

/**
 * `E` and `P` type the resolver's context: any by default, since a guard is made before the route
 * that uses it; name them (`requirePermission<MyEnv, '/projects/:id'>`) for a typed `c`.
 */
/** `resource`: a reference, or a function of the context (may be async); `consistency`: 'cached' (default) or 'fresh'. */
export interface RequirePermissionOptions<E extends Env = AnyEnv, P extends string = AnyPath> extends GuardOptions, RouteOptions<Context<E, P>> {}

export type { Authorizer, Consistency, Decision, Principal, ResourceRef, ResourceResolver };

function isPreflight(c: Context): boolean {
  return c.req.method === 'OPTIONS' && c.req.header('access-control-request-method') !== undefined;
}

function errorResponse(c: Context, error: FgaGuardError): Response {
  const { status, headers, body } = toErrorResponse(error);
  return c.json(body, status as ContentfulStatusCode, headers);
}

function fail(c: Context, error: unknown, options: GuardOptions): Promise<Response> {
  if (!isFgaGuardError(error)) throw error;
  const res = errorResponse(c, error);
  if (options.onError === 'throw') {
    throw new HTTPException(error.status as ContentfulStatusCode, { res, message: error.message, cause: error });
  }
  return Promise.resolve(res);
}

/**
 * The middleware around one of the authorizer's answers: `attempt` asks, `admit` records the answer
 * on the context. Not `async`, and both are made once per guard, so the synchronous path (a
 * remembered token, a token permission, a warm decision) goes on to `next()` in this turn.
 */
function guard<T>(
  options: GuardOptions,
  attempt: (c: Context) => Settling<T>,
  admit: (c: Context, outcome: T) => void,
): MiddlewareHandler {
  return (c: Context, next: Next) => {
    if (options.allowPreflight && isPreflight(c)) return next();
    let outcome: Settling<T>;
    try {
      outcome = attempt(c);
    } catch (error) {
      return fail(c, error, options);
    }
    if (!isPromiseLike(outcome)) {
      admit(c, outcome);
      return next();
    }
    return Promise.resolve(outcome).then(
      (settled) => {
        admit(c, settled);
        return next();
      },
      (error: unknown) => fail(c, error, options),
    );
  };
}

function authorizationOf(c: Context): string | undefined {
  return c.req.header('authorization');
}

function admitPrincipal(c: Context, principal: Principal): void {
  c.set('auth', principal);
}

function admitAuthorized(c: Context, { principal, decision }: AuthorizedRequest): void {
  c.set('auth', principal);
  c.set('authDecision', decision);
}

/** Lets the request through with `c.get('auth')` set when it carries a valid bearer token. */
export function requireAuth(authz: Authorizer, options: GuardOptions = {}): MiddlewareHandler<{ Variables: AuthVariables }> {
  const gate = requestGate(authz);
  return tagGuard(guard(options, (c) => gate.authenticate(authorizationOf(c)), admitPrincipal), AUTH_GUARD);
}

/**
 * Lets the request through when the caller holds `permission`: in the token (org-wide), or on the
 * resource as WorkOS FGA answers.
 */
export function requirePermission<E extends Env = AnyEnv, P extends string = AnyPath, S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permission: S['permissions'],
  options: RequirePermissionOptions<E, P> = {},
): MiddlewareHandler<FgaGuardEnv> {
  assertPermission(permission);
  const { resource, fresh, info } = routeGuardOf(authz, 'requirePermission', [permission], options);
  const gate = requestGate(authz);
  return tagGuard(guard(options, (c) => gate.authorize(authorizationOf(c), permission, resource, c, fresh), admitAuthorized), info);
}

/** The options, checked now; a resolver is typed for the app's context, and called with it. */
function routeGuardOf<E extends Env, P extends string>(authz: Authorizer, kind: GuardKind, permissions: readonly string[], options: RequirePermissionOptions<E, P>) {
  const { resource, fresh, info } = routeGuard(authz, kind, permissions, options);
  return { resource: resource as ResourceRef | ResourceResolver<Context> | undefined, fresh, info };
}

function requireSeveral<E extends Env, P extends string>(
  authz: Authorizer,
  requirement: Requirement,
  options: RequirePermissionOptions<E, P>,
): MiddlewareHandler<FgaGuardEnv> {
  const { resource, fresh, info } = routeGuardOf(authz, severalKind(requirement.mode), requirement.permissions, options);
  const gate = requestGate(authz);
  return tagGuard(guard(options, (c) => gate.authorizeSeveral(authorizationOf(c), requirement, resource, c, fresh), admitAuthorized), info);
}

/**
 * Lets the request through when the caller holds any one of `permissions`: the token's are tried
 * first, then WorkOS in the given order. `c.get('authDecision').permission` is the one that granted.
 */
export function requireAnyPermission<E extends Env = AnyEnv, P extends string = AnyPath, S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions<E, P> = {},
): MiddlewareHandler<FgaGuardEnv> {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'any', permissions: [...permissions] }, options);
}

/** Lets the request through when the caller holds every one of `permissions`; a 403 names the first that is not. */
export function requireAllPermissions<E extends Env = AnyEnv, P extends string = AnyPath, S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions<E, P> = {},
): MiddlewareHandler<FgaGuardEnv> {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'all', permissions: [...permissions] }, options);
}

/** What Hono answers for an error by default: the HTTPException's own response, else a logged 500. */
const honoDefault: ErrorHandler = (error, c) => {
  if (error instanceof HTTPException) return error.getResponse();
  console.error(error);
  return c.text('Internal Server Error', 500);
};

/**
 * For `app.onError(errorHandler())`: renders any fga-guard error (thrown by `authz.check` in a
 * handler, or the cause of a guard's HTTPException) the way the guards do, and every other error
 * with `otherwise` (default: what Hono does).
 */
export function errorHandler<E extends Env = AnyEnv>(otherwise: ErrorHandler<E> = honoDefault): ErrorHandler<E> {
  return (error, c) => {
    const cause = error instanceof HTTPException ? error.cause : error;
    return isFgaGuardError(cause) ? errorResponse(c, cause) : otherwise(error, c);
  };
}
