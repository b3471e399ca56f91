// What every adapter's permission guards take besides the framework glue, checked when the guard is made.
import { assertConsistency, type Consistency, type ResourceResolver } from './decision.js';
import { registerGuard, type GuardInfo, type GuardKind } from './guards.js';
import { validateResource, type ResourceRef } from './resource.js';

export interface RouteOptions<Context> {
  /** The resource the request is about, or a function of the request (may be async) that returns it. */
  resource?: ResourceRef | ResourceResolver<Context>;
  /** 'fresh': skip remembered decisions and membership lookups for this route (default 'cached'). */
  consistency?: Consistency;
}

/** The route's resource (a reference is validated now) and whether it reads fresh; TypeError for bad options. */
export function routeOptions<Context>(options: RouteOptions<Context>): { resource: RouteOptions<Context>['resource']; fresh: boolean } {
  const { resource, consistency } = options;
  if (resource !== undefined && typeof resource !== 'function') validateResource(resource);
  assertConsistency(consistency);
  return { resource, fresh: consistency === 'fresh' };
}

/**
 * `routeOptions`, for a guard about to be made: also records what it names with its authorizer
 * (for `preflight`) and returns the tag its middleware gets (for `auditRoutes`).
 */
export function routeGuard<Context>(
  authz: object,
  kind: GuardKind,
  permissions: readonly string[],
  options: RouteOptions<Context>,
): { resource: RouteOptions<Context>['resource']; fresh: boolean; info: GuardInfo } {
  const { resource, fresh } = routeOptions(options);
  const info: GuardInfo =
    typeof resource === 'function'
      ? { kind, permissions, resolver: true }
      : resource !== undefined && !('id' in resource)
        ? { kind, permissions, resourceType: resource.type }
        : { kind, permissions };
  registerGuard(authz, info);
  return { resource, fresh, info };
}

/** The tag of a requireAuth guard. */
export const AUTH_GUARD: GuardInfo = Object.freeze({ kind: 'requireAuth', permissions: Object.freeze([]) });

/** The guard kind of an any/all requirement. */
export const severalKind = (mode: 'any' | 'all'): GuardKind => (mode === 'any' ? 'requireAnyPermission' : 'requireAllPermissions');
