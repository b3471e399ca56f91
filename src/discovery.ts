// Lists: which resources under a parent the caller holds a permission on (listAccessible), and
// which of the app's own items pass (filterAccessible).
import type { WorkOS } from '@workos-inc/node';
import { assertConcurrency, decideMany, DEFAULT_CONCURRENCY, type CheckRequest } from './batch.js';
import { CoalescingCache } from './cache.js';
import type { Principal } from './claims.js';
import { assertPermission, isFresh, type CheckOptions, type Decision } from './decision.js';
import { membershipScope, organizationScope, resourceScope, userScope, type ScopeKeys } from './invalidation.js';
import { cacheKey, validateResource, type ResourceRef } from './resource.js';
import type { Settling } from './settling.js';
import { attributesOf, type Telemetry } from './telemetry.js';
import { listAllPages, type ListedResource, type Listing } from './upstream.js';

export type AccessibleResource = ListedResource;
export type AccessibleList = Listing;

export interface ListAccessibleOptions extends CheckOptions {
  /** The resource whose children are listed. */
  parent: ResourceRef;
  /** Resources at most (default 1 000); `complete: false` when more exist. */
  maxResults?: number;
}

export interface FilterAccessibleOptions extends CheckOptions {
  /** The items' common parent: one listing then answers most of them (checks answer the rest). */
  parent?: ResourceRef;
  /** Upstream checks in flight at once, at most (default 8). */
  concurrency?: number;
}

const DEFAULT_MAX_RESULTS = 1_000;

/** What discovery needs from the authorizer it belongs to. */
export interface DiscoveryContext {
  readonly client: WorkOS;
  readonly telemetry: Telemetry;
  readonly timeout: number;
  /** ms to remember a listing with resources in it, and an empty one; 0 = do not remember. */
  readonly ttl: { readonly found: number; readonly empty: number };
  readonly listings: CoalescingCache<Listing>;
  /** The decision clock remembered answers are checked against. */
  now(): number;
  /** The membership decisions run for, or null when there is none. */
  membershipFor(principal: Principal, deadline: number, fresh: boolean): Settling<string | null>;
  /** One decision, as `check` makes it, within a budget already running. */
  decide(principal: Principal, permission: string, resource: ResourceRef | null | undefined, deadline: number, fresh: boolean): Settling<Decision>;
}

function assertParent(parent: unknown): asserts parent is ResourceRef {
  if (parent === undefined || parent === null) throw new TypeError('fga-guard: a listing needs { parent } (a resource reference)');
  validateResource(parent);
}

const parentKey = (parent: ResourceRef) => ('id' in parent ? cacheKey('id', parent.id) : cacheKey('ext', parent.type, parent.externalId));

const listedKey = (resource: ResourceRef) => ('id' in resource ? cacheKey(resource.id) : cacheKey(resource.type, resource.externalId));

export function createDiscovery(context: DiscoveryContext) {
  const { client, listings, telemetry } = context;

  /** A listing depends on who asked, its parent and every resource it returned. */
  function remembered(
    key: string,
    organizationId: string,
    deadline: number,
    fresh: boolean,
    scopes: ScopeKeys,
    list: () => Promise<Listing>,
  ): Promise<Listing> {
    const known = fresh ? undefined : listings.peek(key, context.now());
    if (known !== undefined) return Promise.resolve(known);
    return listings.load(
      key,
      deadline,
      scopes,
      async () => {
        const value = await list();
        const found = value.resources.flatMap(({ id, type, externalId }) => [resourceScope({ id }), resourceScope({ type, externalId })]);
        return { value, ttl: value.resources.length > 0 ? context.ttl.found : context.ttl.empty, scopes: found };
      },
      { kind: 'l', organizationId, parts: [key] },
      fresh,
    );
  }

  async function listAccessible(principal: Principal, permission: string, options: ListAccessibleOptions): Promise<AccessibleList> {
    assertPermission(permission);
    if (typeof options !== 'object' || options === null) throw new TypeError('fga-guard: listAccessible takes { parent, maxResults? }');
    const { parent, maxResults = DEFAULT_MAX_RESULTS } = options;
    assertParent(parent);
    if (!Number.isInteger(maxResults) || maxResults < 1) throw new TypeError('fga-guard: maxResults must be a positive integer');
    const fresh = isFresh(options);
    const { organizationId } = principal;
    if (organizationId === undefined) return { resources: [], complete: true };
    const deadline = Date.now() + context.timeout;
    const scopes = [organizationScope(organizationId), userScope(principal.userId), resourceScope(parent)];

    // Org-wide in the token: every child of the parent in the caller's organization, and only there.
    // (The two listings name the parent's filters differently.)
    if (principal.permissions.includes(permission)) {
      const parentFilter = 'id' in parent ? { parentResourceId: parent.id } : { parentResourceTypeSlug: parent.type, parentExternalId: parent.externalId };
      const key = cacheKey('organization', organizationId, parentKey(parent), String(maxResults));
      return remembered(key, organizationId, deadline, fresh, scopes, () =>
        telemetry.upstream('list', attributesOf({ resource: parent, organizationId }), (call) =>
          listAllPages(deadline, maxResults, organizationId, (page) => client.authorization.listResources({ organizationId, ...parentFilter, ...page }), call),
        ),
      );
    }
    const membership = await context.membershipFor(principal, deadline, fresh);
    if (membership === null) return { resources: [], complete: true };
    const parentOption =
      'id' in parent ? { parentResourceId: parent.id } : { parentResourceTypeSlug: parent.type, parentResourceExternalId: parent.externalId };
    const key = cacheKey('membership', membership, permission, parentKey(parent), String(maxResults));
    return remembered(key, organizationId, deadline, fresh, [...scopes, membershipScope(membership)], () =>
      telemetry.upstream('list', attributesOf({ permission, resource: parent, membership }), (call) =>
        listAllPages(
          deadline,
          maxResults,
          organizationId,
          (page) => client.authorization.listResourcesForMembership({ organizationMembershipId: membership, permissionSlug: permission, ...parentOption, ...page }),
          call,
        ),
      ),
    );
  }

  async function filterAccessible<T>(
    principal: Principal,
    permission: string,
    items: readonly T[],
    toResource: (item: T) => ResourceRef,
    options: FilterAccessibleOptions = {},
  ): Promise<T[]> {
    assertPermission(permission);
    if (!Array.isArray(items)) throw new TypeError('fga-guard: filterAccessible takes an array of items');
    if (typeof toResource !== 'function') throw new TypeError('fga-guard: filterAccessible needs toResource(item) → { id } or { type, externalId }');
    if (typeof options !== 'object' || options === null) throw new TypeError('fga-guard: filterAccessible options must be an object');
    if (options.parent !== undefined) assertParent(options.parent);
    assertConcurrency(options.concurrency);
    const fresh = isFresh(options);
    // Every reference is checked before anything is asked.
    const resources = items.map((item) => {
      const resource = toResource(item);
      validateResource(resource);
      return resource;
    });
    if (resources.length === 0) return [];

    // A listing answers the resources it returns; it may miss some (WorkOS lists direct
    // assignments only), so whatever it did not return is checked one by one.
    const accessible = new Set<string>();
    if (options.parent !== undefined && !principal.permissions.includes(permission)) {
      const listing = await listAccessible(principal, permission, { parent: options.parent, consistency: options.consistency });
      for (const { id, type, externalId } of listing.resources) {
        accessible.add(listedKey({ id })).add(listedKey({ type, externalId }));
      }
    }
    const keys = resources.map(listedKey);
    const unlisted: CheckRequest[] = resources.filter((_, index) => !accessible.has(keys[index] as string)).map((resource) => ({ permission, resource }));
    const deadline = Date.now() + context.timeout;
    const decisions = await decideMany(unlisted, options.concurrency ?? DEFAULT_CONCURRENCY, (p, resource) => context.decide(principal, p, resource, deadline, fresh));
    decisions.forEach((decision, index) => {
      if (decision.allowed) accessible.add(listedKey((unlisted[index] as CheckRequest).resource as ResourceRef));
    });
    return items.filter((_, index) => accessible.has(keys[index] as string));
  }

  return { listAccessible, filterAccessible };
}
