import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { requestGate, type Authorizer, type Requirement } from '../src/authorizer.js';
import { assertPermissionList } from '../src/batch.js';
import { assertWebhookOptions, type WebhookOptions } from '../src/events.js';
import type { Principal } from '../src/claims.js';
import { assertPermission, type Consistency, type Decision, type ResourceResolver } from '../src/decision.js';
import { AUTH_GUARD, routeGuard, severalKind, type RouteOptions } from '../src/route-options.js';
import { tagGuard } from '../src/guards.js';
import type { AnySlugs, Slugs } from '../src/slugs.js';
import { isFgaGuardError, toErrorResponse, type FgaGuardError } from '../src/errors.js';
import type { ResourceRef } from '../src/resource.js';
import { isPromiseLike, type Settling } from '../src/settling.js';
import { setAuthorized, setPrincipal } from './express-request.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified caller, set by requireAuth / requirePermission. */
      auth?: Principal;
      /** The decision that let the request through, set by requirePermission. */
      authDecision?: Decision;
    }
  }
}

export interface GuardOptions {
  /**
   * 'respond' (default): answer 401/403/503 here with a small JSON body.
   * 'next': pass the error (with `status`, `code`, `headers`) to `next(err)` for your error handler.
   */
  onError?: 'respond' | 'next';
  /** Let CORS preflight requests (OPTIONS with Access-Control-Request-Method) through unchecked. */
  allowPreflight?: boolean;
}

/** `resource`: a reference, or a function of the request (may be async); `consistency`: 'cached' (default) or 'fresh'. */
export interface RequirePermissionOptions extends GuardOptions, RouteOptions<Request> {}

export type { Authorizer, Consistency, Decision, Principal, ResourceRef, ResourceResolver, WebhookOptions };

function isPreflight(req: Request): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

function respond(res: Response, error: FgaGuardError): void {
  const { status, headers, body } = toErrorResponse(error);
  res.status(status).set(headers).json(body);
}

function fail(error: unknown, options: GuardOptions, res: Response, next: NextFunction): void {
  if (options.onError === 'next' || !isFgaGuardError(error)) return next(error);
  // Something else answered while the decision was pending (a timeout middleware, say): there is
  // nothing left to say, and writing would throw ERR_HTTP_HEADERS_SENT.
  if (!res.headersSent) respond(res, error);
}

/**
 * The guard middleware around one of the authorizer's answers: `attempt` asks, `admit` records the
 * answer on the request. Both are made once per guard, so the synchronous path (a remembered token,
 * a token permission, a warm decision) allocates nothing here and goes on in this turn.
 */
function guard<T>(options: GuardOptions, attempt: (req: Request) => Settling<T>, admit: (req: Request, outcome: T) => void): RequestHandler {
  return (req, res, next) => {
    if (options.allowPreflight && isPreflight(req)) return next();
    let outcome: Settling<T>;
    try {
      outcome = attempt(req);
    } catch (error) {
      return fail(error, options, res, next);
    }
    if (!isPromiseLike(outcome)) {
      admit(req, outcome);
      return next();
    }
    outcome.then(
      (settled) => {
        // Already answered by something else: the route's handler must not run after that answer.
        if (res.headersSent) return;
        admit(req, settled);
        next();
      },
      (error: unknown) => fail(error, options, res, next),
    );
  };
}

/** Lets the request through with `req.auth` set when it carries a valid bearer token. */
export function requireAuth(authz: Authorizer, options: GuardOptions = {}): RequestHandler {
  const gate = requestGate(authz);
  return tagGuard(guard(options, (req) => gate.authenticate(req.headers.authorization), setPrincipal), AUTH_GUARD);
}

/**
 * Lets the request through when the caller holds `permission`: in the token (org-wide), or on the
 * resource as WorkOS FGA answers.
 */
export function requirePermission<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permission: S['permissions'],
  options: RequirePermissionOptions = {},
): RequestHandler {
  assertPermission(permission);
  const { resource, fresh, info } = routeGuard(authz, 'requirePermission', [permission], options);
  const gate = requestGate(authz);
  return tagGuard(guard(options, (req) => gate.authorize(req.headers.authorization, permission, resource, req, fresh), setAuthorized), info);
}

function requireSeveral(authz: Authorizer, requirement: Requirement, options: RequirePermissionOptions): RequestHandler {
  const { resource, fresh, info } = routeGuard(authz, severalKind(requirement.mode), requirement.permissions, options);
  const gate = requestGate(authz);
  return tagGuard(guard(options, (req) => gate.authorizeSeveral(req.headers.authorization, requirement, resource, req, fresh), setAuthorized), info);
}

/**
 * Lets the request through when the caller holds any one of `permissions`: the token's are tried
 * first, then WorkOS in the given order. `req.authDecision.permission` is the one that granted.
 */
export function requireAnyPermission<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions = {},
): RequestHandler {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'any', permissions: [...permissions] }, options);
}

/** Lets the request through when the caller holds every one of `permissions`; a 403 names the first that is not. */
export function requireAllPermissions<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions = {},
): RequestHandler {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'all', permissions: [...permissions] }, options);
}

/**
 * A WorkOS webhook endpoint that keeps fga-guard's answers current: mount it after
 * `express.raw({ type: 'application/json' })`. A delivery whose signature verifies is applied
 * (what it changed is invalidated; `session.revoked` refuses that session's tokens), then answered
 * 200; a missing, wrong or stale signature answers 400 and changes nothing.
 */
export function workosWebhook(authz: Authorizer, options: WebhookOptions): RequestHandler {
  assertWebhookOptions(options);
  const webhook = { secret: options.secret, tolerance: options.tolerance };
  const gate = requestGate(authz);
  return (req, res, next) => {
    const body: unknown = req.body;
    // A parsed object: a JSON body parser ran first, and the signature cannot be checked on it.
    if (typeof body === 'object' && body !== null && !(body instanceof Uint8Array) && Object.keys(body).length > 0) {
      return next(new TypeError("fga-guard: workosWebhook needs the raw body: mount it after express.raw({ type: 'application/json' }), before express.json()"));
    }
    gate.receiveWebhook(body as Uint8Array, req.get('WorkOS-Signature'), webhook).then(
      () => void res.status(200).json({ received: true }),
      (error: unknown) => (isFgaGuardError(error) ? respond(res, error) : next(error)),
    );
  };
}

/**
 * Renders any fga-guard error (from a guard with `onError: 'next'`, or thrown by `authz.check` in a
 * handler) the way the guards do, and passes every other error on. Mount it after your routes.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (!isFgaGuardError(error) || res.headersSent) return next(error);
    respond(res, error);
  };
}

export { auditRoutes } from './express-audit.js';
export type { AuditOptions, AuditedRoute, RouteAudit } from '../src/audit.js';
export type { GuardInfo, GuardKind } from '../src/guards.js';
