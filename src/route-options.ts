// What every adapter's permission guards take besides the framework glue, checked when the guard is made.
import { assertConsistency, type Consistency, type ResourceResolver } from './decision.js';
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
