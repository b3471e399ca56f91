// The second level shared by every instance (`DecisionStore`, e.g. fga-guard/redis), and how the
// caches ask it: after their own memory, before WorkOS.
import type { ScopeKeys } from './invalidation.js';

/** What a store holds: values JSON can carry (booleans, ids, listings); never a token. Checked on the way back. */
export type StoredValue = unknown;

/** One question a store answer is about: its kind and its parts (length-prefixed and hashed by the store). */
export interface StoreKey {
  /** 'd' decision, 'm' membership lookup, 'l' listing, 'r' a stored id's organization. */
  readonly kind: 'd' | 'm' | 'l' | 'r';
  /** Keys of one organization share a Redis Cluster hash tag. */
  readonly organizationId: string | undefined;
  readonly parts: readonly string[];
}

/** The generations of an answer's scopes, as the store read them before its upstream call. */
export type StoreStamp = readonly number[];

export type StoreRead =
  /** `expiresAt`: wall-clock ms at which the stored answer dies (TTLs are absolute). */
  | { readonly found: true; readonly value: StoredValue; readonly expiresAt: number; readonly stamp: StoreStamp }
  /** `stamp`: the generations now, to store the answer under; undefined when the store could not be read. */
  | { readonly found: false; readonly stamp: StoreStamp | undefined };

export interface StoreStats {
  /** The invalidation channel answered within the last second: each instance's own memory may be trusted. */
  readonly healthy: boolean;
  readonly hits: number;
  readonly misses: number;
  /** Reads and writes that failed or were too slow (each answered from WorkOS instead). */
  readonly errors: number;
  /** Invalidations not yet written to the store (retried when it is back). */
  readonly pendingInvalidations: number;
}

/**
 * A decision store shared by several instances. fga-guard asks it after its own memory and before
 * WorkOS, stores what WorkOS answered, and sends every invalidation through it. A store must never
 * throw from these methods: a failure is a miss (`read`), a dropped write, or an invalidation kept
 * for later; and it must report `healthy: false` whenever an invalidation from another instance
 * may not have reached this one.
 */
export interface DecisionStore {
  /**
   * The answer stored for `key`, if it was stored under the generations `scopes` have now, and
   * those generations: the stamp the caller stores an upstream answer under.
   */
  read(key: StoreKey, scopes: ScopeKeys): Promise<StoreRead>;
  /** Stores `value` until `expiresAt` (wall-clock ms), stamped with the generations read before it was asked. */
  write(key: StoreKey, value: StoredValue, scopes: ScopeKeys, stamp: StoreStamp, expiresAt: number): void;
  /** Increments the scopes' generations (`'all'`: every answer) and tells every instance. */
  invalidate(scopes: ScopeKeys | 'all'): Promise<void>;
  /** Called with every invalidation another instance sends. */
  subscribe(listener: (scopes: ScopeKeys | 'all') => void): void;
  /** Called when `healthy` changes. */
  onHealthChange(listener: (healthy: boolean) => void): void;
  readonly healthy: boolean;
  stats(): StoreStats;
  close(): Promise<void>;
}

export function assertStore(store: unknown): asserts store is DecisionStore | undefined {
  if (store === undefined) return;
  const candidate = store as Partial<Record<keyof DecisionStore, unknown>> | null;
  const methods: Array<keyof DecisionStore> = ['read', 'write', 'invalidate', 'subscribe', 'onHealthChange', 'stats', 'close'];
  if (typeof candidate !== 'object' || candidate === null || methods.some((name) => typeof candidate[name] !== 'function')) {
    throw new TypeError('fga-guard: store must be a DecisionStore (createRedisStore() from fga-guard/redis)');
  }
}

/** The store as a cache sees it: the store, and the wall clock stored TTLs are measured on. */
export interface SharedLevel {
  readonly store: DecisionStore;
  now(): number;
}

/** A cache's second level: the store, and what a value from it must look like to be used. */
export interface SharedValues<V> {
  readonly level: SharedLevel;
  readonly isValue: (value: StoredValue) => value is V;
}

/**
 * Reads through the store (unless `fresh`), and stores the upstream answer for the others under the
 * generations read before it was asked. A value not shaped as expected is a miss.
 */
export async function throughStore<V>(
  shared: SharedValues<V> | undefined,
  key: StoreKey | undefined,
  scopes: ScopeKeys,
  fresh: boolean,
  load: () => Promise<{ value: V; ttl: number }>,
): Promise<{ value: V; ttl: number; stored?: true }> {
  if (shared === undefined || key === undefined) return load();
  const { store, now } = shared.level;
  const read = await store.read(key, scopes);
  if (read.found && !fresh && shared.isValue(read.value)) {
    const ttl = read.expiresAt - now();
    if (ttl > 0) return { value: read.value, ttl, stored: true };
  }
  const loaded = await load();
  if (read.stamp !== undefined && loaded.ttl > 0) store.write(key, loaded.value, scopes, read.stamp, now() + loaded.ttl);
  return loaded;
}
