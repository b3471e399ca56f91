import { LRUCache } from 'lru-cache';
import { LOOKUP } from './cache.js';
import type { ResourceRef } from './resource.js';

/** The type slot of a resource named by its stored id: no resource type is empty. */
const STORED_ID = '';

/** Scopes of one membership: resource type (or STORED_ID) → scope prefix. */
type ScopeTable = ReadonlyMap<string, string>;

/**
 * The decision cache's keys, one per (membership, resource): `<scope>:<resource id>`, where the
 * scope is a number that stands for one (membership, resource type) and is never given to another
 * one, not even after it is forgotten: numbers only go up. So two keys are equal only for the same
 * pair and the same resource id, which runs to the end of the key.
 *
 * Why not the pair itself in the key: every warm request looks its decision up by a key built for
 * it, and V8 hashes the whole of a fresh string. With the membership and the type spelled out, the
 * key is ≈ 40 characters; building and hashing one was most of what the warm path cost over the
 * token path (bench/README.md). The scope is found through maps keyed by the membership and the
 * type: strings that are the same objects request after request (from the remembered token, the
 * resolver's literal), whose hashes V8 keeps.
 */
export class DecisionKeys {
  /** Bounded by the number of scopes they hold together (`sizeCalculation`). */
  private readonly tables: LRUCache<string, ScopeTable>;
  private nextScope = 0;

  constructor(maxScopes: number) {
    this.tables = new LRUCache<string, ScopeTable>({ maxSize: maxScopes, sizeCalculation: scopeCount });
  }

  keyOf(membership: string, resource: ResourceRef): string {
    return 'id' in resource ? this.scopeOf(membership, STORED_ID) + resource.id : this.scopeOf(membership, resource.type) + resource.externalId;
  }

  /** Forgets every scope; the numbers given so far are still never given again. */
  clear(): void {
    this.tables.clear();
  }

  private scopeOf(membership: string, type: string): string {
    const table = this.tables.get(membership, LOOKUP);
    const known = table?.get(type);
    if (known !== undefined) return known;
    const scope = `${this.nextScope++}:`;
    // A new table, not the old one changed: lru-cache counts an entry's size when it is set. A
    // membership with more scopes than the cache holds is not remembered: each of its decisions
    // is then asked again (answers stay right, only the cache misses).
    this.tables.set(membership, new Map(table).set(type, scope));
    return scope;
  }
}

const scopeCount = (table: ScopeTable) => table.size;
