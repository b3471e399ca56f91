import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { requestGate, type AuthorizedRequest, type Authorizer } from '../src/authorizer.js';
import type { Principal } from '../src/claims.js';
import { assertPermission, type Decision, type ResourceResolver } from '../src/decision.js';
import { isFgaGuardError, toErrorResponse } from '../src/errors.js';
import { validateResource, type ResourceRef } from '../src/resource.js';
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

export interface RequirePermissionOptions extends GuardOptions {
  /** The resource the request is about, or a function of the request (may be async) that returns it. */
  resource?: ResourceRef | ResourceResolver<Request>;
}

export type { Authorizer, Decision, Principal, ResourceRef, ResourceResolver };

function isPreflight(req: Request): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

function fail(error: unknown, options: GuardOptions, res: Response, next: NextFunction): void {
  if (options.onError === 'next' || !isFgaGuardError(error)) return next(error);
  const { status, headers, body } = toErrorResponse(error);
  res.status(status).set(headers).json(body);
}

/** Lets the request through with `req.auth` set when it carries a valid bearer token. */
export function requireAuth(authz: Authorizer, options: GuardOptions = {}): RequestHandler {
  const gate = requestGate(authz);
  const admit = (req: Request, next: NextFunction, principal: Principal) => {
    setPrincipal(req, principal);
    next();
  };
  return (req, res, next) => {
    if (options.allowPreflight && isPreflight(req)) return next();
    let principal: Settling<Principal>;
    try {
      principal = gate.authenticate(req.headers.authorization);
    } catch (error) {
      return fail(error, options, res, next);
    }
    // Synchronous for a remembered token: the request goes on in this turn.
    if (!isPromiseLike(principal)) return admit(req, next, principal);
    principal.then(
      (verified) => admit(req, next, verified),
      (error: unknown) => fail(error, options, res, next),
    );
  };
}

/**
 * Lets the request through when the caller holds `permission`: in the token (org-wide), or on the
 * resource as WorkOS FGA answers.
 */
export function requirePermission(
  authz: Authorizer,
  permission: string,
  options: RequirePermissionOptions = {},
): RequestHandler {
  assertPermission(permission);
  const { resource } = options;
  if (resource !== undefined && typeof resource !== 'function') validateResource(resource);
  const gate = requestGate(authz);
  const admit = (req: Request, next: NextFunction, authorized: AuthorizedRequest) => {
    setAuthorized(req, authorized);
    next();
  };
  return (req, res, next) => {
    if (options.allowPreflight && isPreflight(req)) return next();
    let outcome: Settling<AuthorizedRequest>;
    try {
      outcome = gate.authorize(req.headers.authorization, permission, resource, req);
    } catch (error) {
      return fail(error, options, res, next);
    }
    // Synchronous on the token and warm-cache paths: the request goes on in this turn.
    if (!isPromiseLike(outcome)) return admit(req, next, outcome);
    outcome.then(
      (authorized) => admit(req, next, authorized),
      (error: unknown) => fail(error, options, res, next),
    );
  };
}
