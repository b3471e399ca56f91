import type { Context, Middleware, Next } from 'koa';
import { requestGate, type AuthorizedRequest, type Authorizer } from '../src/authorizer.js';
import type { Principal } from '../src/claims.js';
import { assertPermission, type Decision, type ResourceResolver } from '../src/decision.js';
import { isFgaGuardError, toErrorResponse } from '../src/errors.js';
import { validateResource, type ResourceRef } from '../src/resource.js';
import { isPromiseLike, type Settling } from '../src/settling.js';

declare module 'koa' {
  interface DefaultState {
    /** The verified caller, set by requireAuth / requirePermission. */
    auth?: Principal;
    /** The decision that let the request through, set by requirePermission. */
    authDecision?: Decision;
  }
}

export interface GuardOptions {
  /**
   * 'respond' (default): answer 401/403/503 here with a small JSON body.
   * 'throw': throw the error (with `status`, `code`, `headers`, `expose`) for your error middleware.
   */
  onError?: 'respond' | 'throw';
  /** Let CORS preflight requests (OPTIONS with Access-Control-Request-Method) through unchecked. */
  allowPreflight?: boolean;
}

export interface RequirePermissionOptions extends GuardOptions {
  /** The resource the request is about, or a function of the context (may be async) that returns it. */
  resource?: ResourceRef | ResourceResolver<Context>;
}

export type { Authorizer, Decision, Principal, ResourceRef, ResourceResolver };

function isPreflight(ctx: Context): boolean {
  return ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
}

function fail(ctx: Context, error: unknown, options: GuardOptions): void {
  if (options.onError === 'throw' || !isFgaGuardError(error)) throw error;
  const { status, headers, body } = toErrorResponse(error);
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}

function authorizationOf(ctx: Context): string | undefined {
  return ctx.get('Authorization') || undefined;
}

// The middlewares below are not `async`: on the token and warm-cache paths the decision is
// synchronous, and the request goes on to `next()` in the same turn.

/** Lets the request through with `ctx.state.auth` set when it carries a valid bearer token. */
export function requireAuth(authz: Authorizer, options: GuardOptions = {}): Middleware {
  const gate = requestGate(authz);
  const admit = (ctx: Context, next: Next, principal: Principal) => {
    ctx.state.auth = principal;
    return next();
  };
  return (ctx: Context, next: Next) => {
    if (options.allowPreflight && isPreflight(ctx)) return next();
    let principal: Settling<Principal>;
    try {
      principal = gate.authenticate(authorizationOf(ctx));
    } catch (error) {
      return fail(ctx, error, options);
    }
    if (!isPromiseLike(principal)) return admit(ctx, next, principal);
    return principal.then(
      (verified) => admit(ctx, next, verified),
      (error: unknown) => fail(ctx, error, options),
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
): Middleware {
  assertPermission(permission);
  const { resource } = options;
  if (resource !== undefined && typeof resource !== 'function') validateResource(resource);
  const gate = requestGate(authz);
  const admit = (ctx: Context, next: Next, { principal, decision }: AuthorizedRequest) => {
    ctx.state.auth = principal;
    ctx.state.authDecision = decision;
    return next();
  };
  return (ctx: Context, next: Next) => {
    if (options.allowPreflight && isPreflight(ctx)) return next();
    let outcome: Settling<AuthorizedRequest>;
    try {
      outcome = gate.authorize(authorizationOf(ctx), permission, resource, ctx);
    } catch (error) {
      return fail(ctx, error, options);
    }
    if (!isPromiseLike(outcome)) return admit(ctx, next, outcome);
    return outcome.then(
      (authorized) => admit(ctx, next, authorized),
      (error: unknown) => fail(ctx, error, options),
    );
  };
}
