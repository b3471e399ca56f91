// What `invalidate()` makes stale: scopes (organization, membership, user, resource) and the
// generation each was last invalidated at, compared on read instead of scanning the caches.
import { cacheKey, validateResource, type ResourceRef } from './resource.js';

/** What changed: at least one of these. Every remembered answer that depends on any of them is dropped. */
export interface InvalidationScope {
  /** Everything remembered about the organization: decisions, membership lookups, listings. */
  organizationId?: string;
  /** The membership's decisions and listings (and the lookup that found it). */
  membershipId?: string;
  /** The user's membership lookups, decisions and listings. */
  userId?: string;
  /** Decisions and listings about the resource, named as your checks name it. */
  resource?: ResourceRef;
}

/** The scope keys an answer depends on, or an invalidation names. Prefixes keep the kinds apart. */
export type ScopeKeys = readonly string[];

export const organizationScope = (organizationId: string) => `o${organizationId}`;
export const membershipScope = (membershipId: string) => `m${membershipId}`;
export const userScope = (userId: string) => `u${userId}`;
export const resourceScope = (resource: ResourceRef) =>
  'id' in resource ? `i${resource.id}` : `r${cacheKey(resource.type, resource.externalId)}`;

const SCOPE_FIELDS = new Set(['organizationId', 'membershipId', 'userId', 'resource']);

function nonEmpty(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`fga-guard: invalidate() scope.${name} must be a non-empty string`);
  return value;
}

/** The keys a scope names; TypeError for anything that is not a scope. */
export function scopeKeysOf(scope: unknown): ScopeKeys {
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) {
    throw new TypeError('fga-guard: invalidate() takes { organizationId?, membershipId?, userId?, resource? }');
  }
  const unknown = Object.keys(scope).filter((field) => !SCOPE_FIELDS.has(field));
  if (unknown.length > 0) throw new TypeError(`fga-guard: invalidate() does not know ${unknown.map((f) => `"${f}"`).join(', ')}`);
  const { organizationId, membershipId, userId, resource } = scope as Record<string, unknown>;
  const keys: string[] = [];
  const organization = nonEmpty(organizationId, 'organizationId');
  if (organization !== undefined) keys.push(organizationScope(organization));
  const membership = nonEmpty(membershipId, 'membershipId');
  if (membership !== undefined) keys.push(membershipScope(membership));
  const user = nonEmpty(userId, 'userId');
  if (user !== undefined) keys.push(userScope(user));
  if (resource !== undefined) {
    validateResource(resource);
    keys.push(resourceScope(resource as ResourceRef));
  }
  if (keys.length === 0) throw new TypeError('fga-guard: invalidate() needs at least one of organizationId, membershipId, userId, resource');
  return keys;
}

/** Scope records kept at most; past this, one invalidation of everything replaces them. */
const MAX_RECORDS = 50_000;

/** A remembered answer's birth: the generation read before its upstream call, and what it depends on. */
export interface Stamp {
  born: number;
  readonly scopes: ScopeKeys;
}

/**
 * Generation counters. `generation` goes up by one at every invalidation; each invalidated scope
 * records the generation it was invalidated at. An answer born (its upstream call started) at
 * generation g is current while none of its scopes was invalidated after g. So an invalidation
 * costs O(its scopes), whatever the caches hold, and a call in flight across an invalidation
 * yields an answer that is stale at birth.
 */
export class Generations {
  private generation = 0;
  /** Everything born before this is stale (an invalidation of everything). */
  private floor = 0;
  private readonly invalidatedAt = new Map<string, number>();

  /** Read before an upstream call: the answer's birth. */
  get current(): number {
    return this.generation;
  }

  invalidate(keys: ScopeKeys): void {
    const at = ++this.generation;
    if (this.invalidatedAt.size + keys.length > MAX_RECORDS) {
      this.invalidateAll();
      return;
    }
    for (const key of keys) this.invalidatedAt.set(key, at);
  }

  invalidateAll(): void {
    this.floor = ++this.generation;
    this.invalidatedAt.clear();
  }

  /** Whether nothing the answer depends on was invalidated since it was born. */
  isCurrent(born: number, scopes: ScopeKeys): boolean {
    if (born === this.generation) return true;
    if (born < this.floor) return false;
    for (const key of scopes) {
      const at = this.invalidatedAt.get(key);
      if (at !== undefined && at > born) return false;
    }
    return true;
  }

  /**
   * The same for a stamp, which is moved up to now when current: nothing it depends on changed
   * up to now, so the next read that sees no new invalidation answers with one comparison.
   */
  holds(stamp: Stamp): boolean {
    if (stamp.born === this.generation) return true;
    if (!this.isCurrent(stamp.born, stamp.scopes)) return false;
    stamp.born = this.generation;
    return true;
  }
}
