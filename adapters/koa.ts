import type { Context, Middleware, Next } from 'koa';
import { requestGate, type AuthorizedRequest, type Authorizer, type Requirement } from '../src/authorizer.js';
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

/** `resource`: a reference, or a function of the context (may be async); `consistency`: 'cached' (default) or 'fresh'. */
export interface RequirePermissionOptions extends GuardOptions, RouteOptions<Context> {}

export type { Authorizer, Consistency, Decision, Principal, ResourceRef, ResourceResolver, WebhookOptions };

function isPreflight(ctx: Context): boolean {
  return ctx.method === 'OPTIONS' && ctx.get('Access-Control-Request-Method') !== '';
}

function respond(ctx: Context, error: FgaGuardError): void {
  const { status, headers, body } = toErrorResponse(error);
  ctx.status = status;
  ctx.set(headers);
  ctx.body = body;
}

function fail(ctx: Context, error: unknown, options: GuardOptions): void {
  if (options.onError === 'throw' || !isFgaGuardError(error)) throw error;
  respond(ctx, error);
}

/** What `ctx.get('Authorization')` reads, without lowercasing the name on every request. */
function authorizationOf(ctx: Context): string | undefined {
  return ctx.req.headers.authorization;
}

/**
 * The guard middleware around one of the authorizer's answers: `attempt` asks, `admit` records the
 * answer in `ctx.state`. Not `async`, and both are made once per guard, so the synchronous path (a
 * remembered token, a token permission, a warm decision) goes on to `next()` in this turn.
 */
function guard<T>(options: GuardOptions, attempt: (ctx: Context) => Settling<T>, admit: (ctx: Context, outcome: T) => void): Middleware {
  return (ctx: Context, next: Next) => {
    if (options.allowPreflight && isPreflight(ctx)) return next();
    let outcome: Settling<T>;
    try {
      outcome = attempt(ctx);
    } catch (error) {
      return fail(ctx, error, options);
    }
    if (!isPromiseLike(outcome)) {
      admit(ctx, outcome);
      return next();
    }
    return outcome.then(
      (settled) => {
        // Already answered by something else (a timeout middleware): the route must not run after that.
        if (ctx.headerSent) return;
        admit(ctx, settled);
        return next();
      },
      (error: unknown) => fail(ctx, error, options),
    );
  };
}

/** Lets the request through with `ctx.state.auth` set when it carries a valid bearer token. */
export function requireAuth(authz: Authorizer, options: GuardOptions = {}): Middleware {
  const gate = requestGate(authz);
  return tagGuard(guard(
    options,
    (ctx) => gate.authenticate(authorizationOf(ctx)),
    (ctx, principal) => {
      ctx.state.auth = principal;
    },
  ), AUTH_GUARD);
}

/**
 * Lets the request through when the caller holds `permission`: in the token (org-wide), or on the
 * resource as WorkOS FGA answers.
 */
export function requirePermission<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permission: S['permissions'],
  options: RequirePermissionOptions = {},
): Middleware {
  assertPermission(permission);
  const { resource, fresh, info } = routeGuard(authz, 'requirePermission', [permission], options);
  const gate = requestGate(authz);
  return tagGuard(
    guard(options, (ctx) => gate.authorize(authorizationOf(ctx), permission, resource, ctx, fresh), admitAuthorized),
    info,
  );
}

function admitAuthorized(ctx: Context, { principal, decision }: AuthorizedRequest): void {
  ctx.state.auth = principal;
  ctx.state.authDecision = decision;
}

function requireSeveral(authz: Authorizer, requirement: Requirement, options: RequirePermissionOptions): Middleware {
  const { resource, fresh, info } = routeGuard(authz, severalKind(requirement.mode), requirement.permissions, options);
  const gate = requestGate(authz);
  return tagGuard(guard(options, (ctx) => gate.authorizeSeveral(authorizationOf(ctx), requirement, resource, ctx, fresh), admitAuthorized), info);
}

/**
 * Lets the request through when the caller holds any one of `permissions`: the token's are tried
 * first, then WorkOS in the given order. `ctx.state.authDecision.permission` is the one that granted.
 */
export function requireAnyPermission<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions = {},
): Middleware {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'any', permissions: [...permissions] }, options);
}

/** Lets the request through when the caller holds every one of `permissions`; a 403 names the first that is not. */
export function requireAllPermissions<S extends Slugs = AnySlugs>(
  authz: Authorizer<S>,
  permissions: readonly S['permissions'][],
  options: RequirePermissionOptions = {},
): Middleware {
  assertPermissionList(permissions);
  return requireSeveral(authz, { mode: 'all', permissions: [...permissions] }, options);
}

/** WorkOS events are small; a larger body is refused before it is read whole. */
const MAX_WEBHOOK_BYTES = 1024 * 1024;

/** The request body exactly as sent: a body parser's raw copy when one ran (koa-bodyparser keeps it), else read here. */
async function rawBodyOf(ctx: Context): Promise<string | Uint8Array> {
  const kept = (ctx.request as { rawBody?: unknown }).rawBody;
  if (typeof kept === 'string') return kept;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    size += bytes.length;
    if (size > MAX_WEBHOOK_BYTES) ctx.throw(413, 'fga-guard: webhook body too large');
    chunks.push(bytes);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/**
 * A WorkOS webhook endpoint that keeps fga-guard's answers current (it reads the raw body itself).
 * A delivery whose signature verifies is applied (what it changed is invalidated; `session.revoked`
 * refuses that session's tokens), then answered 200; a missing, wrong or stale signature answers
 * 400 and changes nothing.
 */
export function workosWebhook(authz: Authorizer, options: WebhookOptions): Middleware {
  assertWebhookOptions(options);
  const webhook = { secret: options.secret, tolerance: options.tolerance };
  const gate = requestGate(authz);
  return async (ctx) => {
    try {
      await gate.receiveWebhook(await rawBodyOf(ctx), ctx.get('WorkOS-Signature') || undefined, webhook);
    } catch (error) {
      if (!isFgaGuardError(error)) throw error;
      return respond(ctx, error);
    }
    ctx.status = 200;
    ctx.body = { received: true };
  };
}

/**
 * Renders any fga-guard error (from a guard with `onError: 'throw'`, or thrown by `authz.check` in
 * a handler) the way the guards do, and rethrows every other error. Mount it first.
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isFgaGuardError(error) || ctx.headerSent) throw error;
      respond(ctx, error);
    }
  };
}

export { auditRoutes } from './koa-audit.js';
export type { AuditOptions, AuditedRoute, RouteAudit } from '../src/audit.js';
export type { GuardInfo, GuardKind } from '../src/guards.js';
