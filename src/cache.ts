import { LRUCache } from 'lru-cache';
import { ServiceUnavailableError } from './errors.js';
import type { Generations, ScopeKeys, Stamp } from './invalidation.js';
import { throughStore, type SharedValues, type StoreKey } from './store.js';

/**
 * What every lookup passes as lru-cache's `get` options. Left out, `get` makes a new `{}` for them
 * on every call (it writes `status` into them, so this one is not frozen).
 */
export const LOOKUP = {};

/**
 * lru-cache's `ttlResolution: 0`: every expiry check reads the clock. The default (1 ms) reuses a
 * reading and arms a timer to drop it, so under load each cache creates and fires about a thousand
 * timers a second. A token also dies at its `exp`, not 1 ms later.
 */
export const EXACT_TTL = 0;

export interface Loaded<V> {
  value: V;
  /** ms to remember the value; 0 = do not remember. */
  ttl: number;
  /** What the value depends on besides the scopes the load was started with (e.g. what it found). */
  scopes?: ScopeKeys;
}

/** A remembered answer: its value, when it dies (ms on the decision clock) and its birth. */
export interface Remembered<V> extends Stamp {
  readonly value: V;
  readonly expires: number;
}

interface InFlight<V> {
  readonly answer: Promise<V>;
  /** When the load's budget (its first caller's) runs out, ms of wall-clock time. */
  readonly deadline: number;
  readonly born: number;
}

/** The load ran out of its budget: a caller with time left may try again. */
const outOfTime = (error: unknown) => error instanceof ServiceUnavailableError && error.reason === 'timeout';

/**
 * Identical concurrent loads share one upstream call, unless an invalidation came after the load
 * started and touches what it depends on: a caller never joins a call that may return what was
 * true before a change it could know of. Errors are never kept; a joiner whose own budget outlasts
 * the load's is not failed by the load running out of time: it loads again.
 */
export class InFlightLoads<V> {
  private readonly loads = new Map<string, InFlight<V>>();

  constructor(private readonly generations: Generations) {}

  run(key: string, deadline: number, scopes: ScopeKeys, load: (born: number) => Promise<V>): Promise<V> {
    const pending = this.loads.get(key);
    if (pending && this.generations.isCurrent(pending.born, scopes)) {
      if (pending.deadline >= deadline) return pending.answer;
      return pending.answer.catch((error: unknown) => {
        if (outOfTime(error) && Date.now() < deadline) return this.run(key, deadline, scopes, load);
        throw error;
      });
    }
    const born = this.generations.current;
    const answer = load(born).finally(() => {
      if (this.loads.get(key)?.answer === answer) this.loads.delete(key);
    });
    this.loads.set(key, { answer, deadline, born });
    return answer;
  }
}

/**
 * A bounded cache of answers that coalesces identical concurrent loads. Each answer is stamped with
 * the generation read before its load and the scopes it depends on; a read serves it only while it
 * has not expired (an absolute TTL, never extended) and nothing it depends on was invalidated. An
 * answer already stale when its load ends is not kept.
 */
export class CoalescingCache<V extends NonNullable<unknown>> {
  private readonly answers: LRUCache<string, Remembered<V>> | undefined;
  private readonly inflight: InFlightLoads<V>;

  constructor(
    max: number | false,
    private readonly generations: Generations,
    private readonly clock: { now(): number },
    /** The store shared with other instances, and what a value from it must look like. */
    private readonly shared?: SharedValues<V>,
  ) {
    this.answers = max === false ? undefined : new LRUCache<string, Remembered<V>>({ max });
    this.inflight = new InFlightLoads(generations);
  }

  /** The remembered answer, if any, unexpired at `now` (the decision clock) and current; none while a shared store is unhealthy. */
  peek(key: string, now: number): V | undefined {
    if (this.shared !== undefined && !this.shared.level.store.healthy) return undefined;
    const entry = this.answers?.get(key, LOOKUP);
    if (entry === undefined) return undefined;
    if (now < entry.expires && this.generations.holds(entry)) return entry.value;
    this.answers?.delete(key);
    return undefined;
  }

  /**
   * The answer for `key`, loaded by `loader` (which must settle by `deadline`) unless already in
   * flight; with a shared store, asked there first (`storeKey`; not when `fresh`) and stored there after.
   */
  load(key: string, deadline: number, scopes: ScopeKeys, loader: () => Promise<Loaded<V>>, storeKey?: StoreKey, fresh = false): Promise<V> {
    return this.inflight.run(key, deadline, scopes, async (born) => {
      let found: ScopeKeys | undefined;
      const { value, ttl } = await throughStore(this.shared, storeKey, scopes, fresh, async () => {
        const loaded = await loader();
        found = loaded.scopes;
        return loaded;
      });
      const all = found === undefined ? scopes : [...scopes, ...found];
      if (ttl > 0 && this.answers && this.generations.isCurrent(born, all)) {
        this.answers.set(key, { value, expires: this.clock.now() + ttl, born, scopes: all });
      }
      return value;
    });
  }

  get size(): number {
    return this.answers?.size ?? 0;
  }

  clear(): void {
    this.answers?.clear();
  }
}
