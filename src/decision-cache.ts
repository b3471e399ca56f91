// Remembered check answers, grouped by (membership, resource): the permissions asked about one
// resource are found with one lookup, so a batch on one resource pays for one.
import { LRUCache } from 'lru-cache';
import { InFlightLoads, LOOKUP, type Remembered } from './cache.js';
import { DecisionKeys } from './decision-keys.js';
import type { Generations, ScopeKeys } from './invalidation.js';
import { cacheKey, type ResourceRef } from './resource.js';
import { throughStore, type SharedLevel, type SharedValues, type StoreKey } from './store.js';
import { isCheckAnswer, type CheckAnswer } from './decision.js';

/** The answers about one resource for one membership, by permission. Replaced, never changed, when one is added. */
export type AnswerGroup = ReadonlyMap<string, Remembered<CheckAnswer>>;

const answerCount = (group: AnswerGroup) => group.size;
/** A check's answer, and whether the shared store ('cache') or WorkOS ('api') gave it. */
export interface SourcedAnswer {
  readonly answer: CheckAnswer;
  readonly source: 'cache' | 'api';
}

export class DecisionCache {
  /** Bounded by the answers they hold together (`sizeCalculation`). */
  private readonly groups: LRUCache<string, AnswerGroup> | undefined;
  private readonly keys: DecisionKeys;
  private readonly inflight: InFlightLoads<SourcedAnswer>;
  private readonly shared: SharedValues<CheckAnswer> | undefined;

  constructor(
    max: number | false,
    private readonly generations: Generations,
    private readonly clock: { now(): number },
    defaultMax: number,
    level?: SharedLevel,
  ) {
    this.shared = level && { level, isValue: isCheckAnswer };
    this.groups = max === false ? undefined : new LRUCache<string, AnswerGroup>({ maxSize: max, sizeCalculation: answerCount });
    // As many scopes as answers: even with the cache off, the keys still coalesce identical in-flight checks.
    this.keys = new DecisionKeys(max === false ? defaultMax : max);
    this.inflight = new InFlightLoads<SourcedAnswer>(generations);
  }

  /** The key of the (membership, resource) pair. */
  groupKey(membership: string, resource: ResourceRef): string {
    return this.keys.keyOf(membership, resource);
  }

  /** The remembered answers about the pair; none while a shared store is unhealthy (they may have missed an invalidation). */
  group(groupKey: string): AnswerGroup | undefined {
    if (this.shared !== undefined && !this.shared.level.store.healthy) return undefined;
    return this.groups?.get(groupKey, LOOKUP);
  }

  /** The remembered answer in `group`, if unexpired at `now` (the decision clock) and current. */
  answer(group: AnswerGroup, permission: string, now: number): CheckAnswer | undefined {
    const entry = group.get(permission);
    if (entry === undefined || now >= entry.expires || !this.generations.holds(entry)) return undefined;
    return entry.value;
  }

  /**
   * Asks `check` once for all identical in-flight questions (with a shared store, asked there
   * first as `storeKey`, unless `fresh`); remembers the answer for `ttl(answer)` ms if still current.
   */
  load(
    groupKey: string,
    permission: string,
    scopes: ScopeKeys,
    deadline: number,
    check: () => Promise<CheckAnswer>,
    ttl: (allowed: boolean) => number,
    storeKey: StoreKey,
    fresh: boolean,
  ): Promise<SourcedAnswer> {
    return this.inflight.run(cacheKey(groupKey, permission), deadline, scopes, async (born) => {
      const { value: answer, ttl: lifetime, stored } = await throughStore(this.shared, storeKey, scopes, fresh, async () => {
        const value = await check();
        return { value, ttl: ttl(value === true) };
      });
      if (lifetime > 0 && this.groups && this.generations.isCurrent(born, scopes)) {
        const entry = { value: answer, expires: this.clock.now() + lifetime, born, scopes };
        this.groups.set(groupKey, new Map(this.groups.get(groupKey, LOOKUP)).set(permission, entry));
      }
      return { answer, source: stored ? 'cache' : 'api' };
    });
  }

  /** Answers remembered (expired ones count until they are replaced or evicted). */
  get size(): number {
    return this.groups?.calculatedSize ?? 0;
  }

  clear(): void {
    this.groups?.clear();
    this.keys.clear();
  }
}
