// Remembered check answers, grouped by (membership, resource): the permissions asked about one
// resource are found with one lookup, so a batch on one resource pays for one.
import { LRUCache } from 'lru-cache';
import { InFlightLoads, LOOKUP, type Remembered } from './cache.js';
import { DecisionKeys } from './decision-keys.js';
import type { Generations, ScopeKeys } from './invalidation.js';
import { cacheKey, type ResourceRef } from './resource.js';
import type { CheckAnswer } from './decision.js';

/** The answers about one resource for one membership, by permission. Replaced, never changed, when one is added. */
export type AnswerGroup = ReadonlyMap<string, Remembered<CheckAnswer>>;

const answerCount = (group: AnswerGroup) => group.size;

export class DecisionCache {
  /** Bounded by the answers they hold together (`sizeCalculation`). */
  private readonly groups: LRUCache<string, AnswerGroup> | undefined;
  private readonly keys: DecisionKeys;
  private readonly inflight: InFlightLoads<CheckAnswer>;

  constructor(
    max: number | false,
    private readonly generations: Generations,
    private readonly clock: { now(): number },
    defaultMax: number,
  ) {
    this.groups = max === false ? undefined : new LRUCache<string, AnswerGroup>({ maxSize: max, sizeCalculation: answerCount });
    // As many scopes as answers: even with the cache off, the keys still coalesce identical in-flight checks.
    this.keys = new DecisionKeys(max === false ? defaultMax : max);
    this.inflight = new InFlightLoads(generations);
  }

  /** The key of the (membership, resource) pair. */
  groupKey(membership: string, resource: ResourceRef): string {
    return this.keys.keyOf(membership, resource);
  }

  group(groupKey: string): AnswerGroup | undefined {
    return this.groups?.get(groupKey, LOOKUP);
  }

  /** The remembered answer in `group`, if unexpired at `now` (the decision clock) and current. */
  answer(group: AnswerGroup, permission: string, now: number): CheckAnswer | undefined {
    const entry = group.get(permission);
    if (entry === undefined || now >= entry.expires || !this.generations.holds(entry)) return undefined;
    return entry.value;
  }

  /** Asks `check` once for all identical in-flight questions; remembers the answer for `ttl(answer)` ms if still current. */
  load(
    groupKey: string,
    permission: string,
    scopes: ScopeKeys,
    deadline: number,
    check: () => Promise<CheckAnswer>,
    ttl: (allowed: boolean) => number,
  ): Promise<CheckAnswer> {
    return this.inflight.run(cacheKey(groupKey, permission), deadline, scopes, async (born) => {
      const answer = await check();
      const lifetime = ttl(answer === true);
      if (lifetime > 0 && this.groups && this.generations.isCurrent(born, scopes)) {
        const entry = { value: answer, expires: this.clock.now() + lifetime, born, scopes };
        this.groups.set(groupKey, new Map(this.groups.get(groupKey, LOOKUP)).set(permission, entry));
      }
      return answer;
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
