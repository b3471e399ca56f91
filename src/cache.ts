import { LRUCache } from 'lru-cache';
import { ServiceUnavailableError } from './errors.js';

/**
 * lru-cache's `ttlResolution: 0`: every expiry check reads the clock. The default (1 ms) reuses a
 * reading and arms a timer to drop it, so under load each cache creates and fires about a thousand
 * timers a second. Inside a loaded Express server, a hit on a cache shaped like the token cache took
 * 0.7–2.3 µs that way against 0.6–1.0 µs reading the clock. A token also dies at its `exp`, not 1 ms
 * later.
 */
export const EXACT_TTL = 0;

/**
 * What every lookup passes as lru-cache's `get` options. Left out, `get` makes a new `{}` for them
 * on every call (it writes `status` into them, so this one is not frozen).
 */
export const LOOKUP = {};

export interface Loaded<V> {
  value: V;
  /** ms to remember the value; 0 = do not remember. */
  ttl: number;
}

interface InFlight<V> {
  readonly answer: Promise<V>;
  /** When the load's budget (its first caller's) runs out, ms of wall-clock time. */
  readonly deadline: number;
}

/** The load ran out of its budget: a caller with time left may try again. */
const outOfTime = (error: unknown) => error instanceof ServiceUnavailableError && error.reason === 'timeout';

/**
 * A bounded cache of answers that also coalesces identical concurrent loads: while one load for a
 * key is in flight, every other caller of that key waits for it. Only answers are stored: a load
 * that throws is forgotten at once and fails all of its waiters, except that a waiter whose own
 * budget outlasts the load's is not failed by the load running out of time: it loads again.
 */
export class CoalescingCache<V extends NonNullable<unknown>> {
  private readonly answers: LRUCache<string, V> | undefined;
  private readonly inflight = new Map<string, InFlight<V>>();

  constructor(max: number | false) {
    this.answers = max === false ? undefined : new LRUCache<string, V>({ max, ttlAutopurge: false, ttlResolution: EXACT_TTL });
  }

  /** The remembered answer, if any and not expired. */
  peek(key: string): V | undefined {
    return this.answers?.get(key, LOOKUP);
  }

  /** The answer for `key`, loaded by `loader` (which must settle by `deadline`) unless already in flight. */
  load(key: string, deadline: number, loader: () => Promise<Loaded<V>>): Promise<V> {
    const pending = this.inflight.get(key);
    if (pending) {
      if (pending.deadline >= deadline) return pending.answer;
      return pending.answer.catch((error: unknown) => {
        if (outOfTime(error) && Date.now() < deadline) return this.load(key, deadline, loader);
        throw error;
      });
    }
    const answer = loader()
      .then(({ value, ttl }) => {
        if (ttl > 0) this.answers?.set(key, value, { ttl });
        return value;
      })
      .finally(() => {
        if (this.inflight.get(key)?.answer === answer) this.inflight.delete(key);
      });
    this.inflight.set(key, { answer, deadline });
    return answer;
  }

  get size(): number {
    return this.answers?.size ?? 0;
  }

  clear(): void {
    this.answers?.clear();
  }
}
