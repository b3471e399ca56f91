// What each guard requires, told two ways: a tag on the middleware it returns (read by auditRoutes),
// and the slugs its authorizer's guards name (checked by preflight). Fed by every adapter through route-options.

export type GuardKind = 'requireAuth' | 'requirePermission' | 'requireAnyPermission' | 'requireAllPermissions';

/** What a guard requires, as `auditRoutes` reports it. */
export interface GuardInfo {
  readonly kind: GuardKind;
  /** The permission slugs it names (none for requireAuth). */
  readonly permissions: readonly string[];
  /** The type of a `{ type, externalId }` resource given as a literal; a resolver's is not known until a request. */
  readonly resourceType?: string;
  /** The resource comes from a function of the request. */
  readonly resolver?: boolean;
}

/** A registered symbol, so a tag made by one copy of fga-guard (an app's) is read by another (the CLI's). */
export const GUARD_TAG: unique symbol = Symbol.for('fga-guard.guard') as never;

/** Tags a guard's middleware (a non-enumerable property of fga-guard's own function; nothing shared is changed). */
export function tagGuard<F extends object>(middleware: F, info: GuardInfo): F {
  Object.defineProperty(middleware, GUARD_TAG, { value: Object.freeze({ ...info, permissions: Object.freeze([...info.permissions]) }) });
  return middleware;
}

/** The guard a middleware function is, or undefined. */
export function guardInfoOf(middleware: unknown): GuardInfo | undefined {
  if ((typeof middleware !== 'function' && typeof middleware !== 'object') || middleware === null) return undefined;
  const info = (middleware as { [GUARD_TAG]?: unknown })[GUARD_TAG];
  return typeof info === 'object' && info !== null && typeof (info as GuardInfo).kind === 'string' ? (info as GuardInfo) : undefined;
}

/** The slugs named by the guards made with one authorizer so far. */
export interface NamedSlugs {
  readonly permissions: readonly string[];
  readonly resourceTypes: readonly string[];
}

const named = new WeakMap<object, { permissions: Set<string>; resourceTypes: Set<string> }>();

export function registerGuard(authz: object, info: GuardInfo): void {
  let slugs = named.get(authz);
  if (slugs === undefined) named.set(authz, (slugs = { permissions: new Set(), resourceTypes: new Set() }));
  for (const permission of info.permissions) slugs.permissions.add(permission);
  if (info.resourceType !== undefined) slugs.resourceTypes.add(info.resourceType);
}

export function namedSlugs(authz: object): NamedSlugs {
  const slugs = named.get(authz);
  return { permissions: [...(slugs?.permissions ?? [])], resourceTypes: [...(slugs?.resourceTypes ?? [])] };
}
