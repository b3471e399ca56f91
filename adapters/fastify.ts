import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import { requestGate, type AuthorizedRequest, type Authorizer, type Requirement } from '../src/authorizer.js';
import { AUTH_GUARD, routeGuard, severalKind, type RouteOptions } from '../src/route-options.js';
import { tagGuard } from '../src/guards.js';
import type { AnySlugs, Slugs } from '../src/slugs.js';
import { assertPermissionList } from '../src/batch.js';
import type { Principal } from '../src/claims.js';
import { assertPermission, type Consistency, type Decision, type ResourceResolver } from '../src/decision.js';
import { isFgaGuardError, toErrorResponse, type FgaGuardError } from '../src/errors.js';
import type { ResourceRef } from '../src/resource.js';
import { isPromiseLike, type Settling } from '../src/settling.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified caller, set by requireAuth / requirePermission. */
    auth?: Principal;
    /** The decision that let the request through, set by requirePermission. */
    authDecision?: Decision;
  }
}

export interface GuardOptions {
  /**
   * 'respond' (default): answer 401/403/503 here with a small JSON body.
   * 'throw': hand the error (with `statusCode`, `code`, `headers`, `expose`) to Fastify's error handler.
   */
  onError?: 'respond' | 'throw';
  /** Let CORS preflight requests (OPTIONS with Access-Control-Request-Method) through unchecked. */
  allowPreflight?: boolean;
}

/** `resource`: a reference, or a function of the request (may be async); `consistency`: 'cached' (default) or 'fresh'. */
export interface RequirePermissionOptions extends GuardOptions, RouteOptions<FastifyRequest> {}

export type { Authorizer, Consistency, Decision, Principal, ResourceRef, ResourceResolver };

function isPreflight(request: FastifyRequest): boolean {
  return request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
}

function respond(reply: FastifyReply, error: FgaGuardError): void {
  const { status, headers, body } = toErrorResponse(error);
  reply.code(status).headers(headers).send(body);
}

function fail(error: unknown, options: GuardOptions, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (options.onError === 'throw' || !isFgaGuardError(error)) return done(error as Error);
  // Something else answered while the decision was pending (a timeout plugin, say): nothing left to say.
  if (!reply.sent) respond(reply, error);
}

/**
 * The preHandler hook around one of the authorizer's answers: `attempt` asks, `admit` records the
 * answer on the request. A callback hook, not an async one: the synchronous path (a remembered
 * token, a token permission, a warm decision) calls `done()` in this turn, with no promise.
 */
function guard<T>(
  options: GuardOptions,
  attempt: (request: FastifyRequest) => Settling<T>,
  admit: (request: FastifyRequest, outcome: T) => void,
): preHandlerHookHandler {
  return (request, reply, done) => {
    if (options.allowPreflight && isPreflight(request)) return done();
    let outcome: Settling<T>;
    try {
      outcome = attempt(request);
    } catch (error) {
      return fail(error, options, reply, done);
    }
    if (!isPromiseLike(outcome)) {
      admit(request, outcome);
      return done();
    }
    outcome.then(
      (settled) => {
        // Already answered by something else: the route's handler must not run after that answer.
        if (reply.sent) return;
        admit(request, settled);
        done();
      },
      (error: unknown) => fail(error, options, reply, done),
    );
  };
}

function admitPrincipal(request: FastifyRequest, principal: Principal): void {
  request.auth = principal;
}

function admitAuthorized(request: FastifyRequest, { principal, decision }: AuthorizedRequest): void {
  request.auth = principal;
  request.authDecision = decision;
}

/** Lets the request through with `request.auth` set when it carries a valid bearer token. */
export function requireAuth(authz: Authorizer, options: GuardOptions = {}): preHandlerHookHandler {
  const gate = requestGate(authz);
  return tagGuard(guard(options, (request) => gate.authenticate(request.headers.authorization), admitPrincipal), AUTH_GUARD);
}

/**
 * Lets the request through when the caller holds `permission`: in the token (org-wide), or on the
 * resource as WorkOS FGA answers.
 */
export function requirePermission<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permission: S['permissions'],
  options: RequirePermissionOptions = {},
): preHandlerHookHandler {
  assertPermission(permission);
  const { resource, fresh, info } = routeGuard(authz, 'requirePermission', [permission], options);
  const gate = requestGate(authz);
  return tagGuard(
    guard(options, (request) => gate.authorize(request.headers.authorization, permission, resource, request, fresh), admitAuthorized),
    info,
  );
}

function requireSeveral(authz: Authorizer, requirement: Requirement, options: RequirePermissionOptions): preHandlerHookHandler {
  const { resource, fresh, info } = routeGuard(authz, severalKind(requirement.mode), requirement.permissions, options);
  const gate = requestGate(authz);
  return tagGuard(
    guard(options, (request) => gate.authorizeSeveral(request.headers.authorization, requirement, resource, request, fresh), admitAuthorized),
    info,
  );
}

/**
 * Lets the request through when the caller holds any one of `permissions`: the token's are tried
 * first, then WorkOS in the given order. `request.authDecision.permission` is the one that granted.
 */
export function requireAnyPermission<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions = {},
): preHandlerHookHandler {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'any', permissions: [...permissions] }, options);
}

/** Lets the request through when the caller holds every one of `permissions`; a 403 names the first that is not. */
export function requireAllPermissions<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions = {},
): preHandlerHookHandler {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'all', permissions: [...permissions] }, options);
}

/**
 * For `app.setErrorHandler(errorHandler())`: renders any fga-guard error (from a guard with
 * `onError: 'throw'`, or thrown by `authz.check` in a handler) the way the guards do, and hands every
 * other error on to the parent error handler (Fastify's default at the root).
 */
export function errorHandler(): (error: Error, request: FastifyRequest, reply: FastifyReply) => void {
  return (error, _request, reply) => {
    if (!isFgaGuardError(error) || reply.sent) throw error;
    respond(reply, error);
  };
}
