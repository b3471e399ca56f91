// fga-guard/redis: a DecisionStore on node-redis 5, with invalidations fanned out over pub/sub.
import { createHash, randomUUID } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import type { DecisionStore, ScopeKeys, StoreKey, StoreRead, StoreStamp, StoreStats, StoredValue } from '../src/index.js';

export interface RedisStoreOptions {
  /** A node-redis 5 client (connected or not); the store makes its own subscriber from it and leaves the client open on close(). */
  client?: RedisClientType;
  /** Or a URL (`redis://127.0.0.1:6379`): the store makes and owns both connections. */
  url?: string;
  /** Prefix of every key and channel (default 'fga'): instances that share answers share it. */
  prefix?: string;
  /** A read or write slower than this (ms) counts as a miss (default 50): a frozen Redis costs a request this much at most. */
  commandTimeout?: number;
  /** ms between heartbeats on the invalidation channel (default 250); unhealthy after 1 s without one. */
  heartbeatInterval?: number;
}

/** A generation field every answer depends on: 'all' increments it. */
const EVERYTHING = '*';
const HEALTHY_WITHIN_MS = 1_000;

/** Length-prefixed, so that no two part lists meet (`a:b` + `c` never equals `a` + `b:c`). */
const joined = (parts: readonly string[]) => parts.map((part) => `${part.length}:${part}`).join('');

interface Entry {
  /** The value. */
  v: StoredValue;
  /** Wall-clock ms it dies at. */
  e: number;
  /** The generations of its scopes (and of everything) at its birth. */
  g: readonly number[];
}

function isEntry(value: unknown): value is Entry {
  const entry = value as Partial<Entry> | null;
  return typeof entry === 'object' && entry !== null && 'v' in entry && typeof entry.e === 'number' && Array.isArray(entry.g) && entry.g.every((n) => Number.isInteger(n));
}

export interface RedisStore extends DecisionStore {
  /** Resolves once both connections are up (the store works before: until then every read is a miss). */
  readonly ready: Promise<void>;
}

/**
 * Answers shared by every instance through Redis. Keys are `<prefix>:{<organization>}:<kind>:<sha256>`
 * (one Redis Cluster hash tag per organization); the generations of every scope live in one hash;
 * an answer is served only while the generations it was stamped with are the current ones.
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('fga-guard/redis: createRedisStore takes { client } or { url }');
  const { client: given, url, prefix = 'fga', commandTimeout = 50, heartbeatInterval = 250 } = options;
  if ((given === undefined) === (url === undefined)) throw new TypeError('fga-guard/redis: pass exactly one of { client } and { url }');
  if (url !== undefined && (typeof url !== 'string' || url.length === 0)) throw new TypeError('fga-guard/redis: url must be a redis:// URL');
  if (given !== undefined && (typeof given !== 'object' || typeof (given as { duplicate?: unknown }).duplicate !== 'function')) {
    throw new TypeError('fga-guard/redis: client must be a node-redis 5 client (createClient() from "redis")');
  }
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) throw new TypeError('fga-guard/redis: prefix must be a non-empty string without braces');
  for (const [name, value] of [
    ['commandTimeout', commandTimeout],
    ['heartbeatInterval', heartbeatInterval],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`fga-guard/redis: ${name} must be a positive integer (ms)`);
  }

  // Commands fail at once while disconnected (no offline queue): a miss, not a wait.
  const connectionOptions = { disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000) } };
  const commands = (given ?? createClient({ url, ...connectionOptions })) as RedisClientType;
  const subscriber = commands.duplicate(connectionOptions) as RedisClientType;
  // Every read and write through node-redis's own per-command timeout.
  const timed = commands.withCommandOptions({ timeout: commandTimeout });
  const owned = given === undefined ? [commands, subscriber] : [subscriber];
  const instance = randomUUID();
  const channel = `${prefix}:invalidations`;
  const generationsKey = `${prefix}:{generations}`;

  const counters = { hits: 0, misses: 0, errors: 0 };
  const pending: Array<ScopeKeys | 'all'> = [];
  const invalidationListeners: Array<(scopes: ScopeKeys | 'all') => void> = [];
  const healthListeners: Array<(healthy: boolean) => void> = [];
  let lastHeartbeat = Number.NEGATIVE_INFINITY;
  let healthy = false;
  let closed = false;

  // An 'error' event without a listener would crash the process; connection errors are reconnected by node-redis.
  for (const client of [commands, subscriber]) client.on('error', () => void counters.errors++);

  const keyOf = ({ kind, organizationId, parts }: StoreKey) =>
    `${prefix}:{${organizationId === undefined ? '-' : createHash('sha256').update(organizationId).digest('hex').slice(0, 16)}}:${kind}:${createHash('sha256').update(joined([kind, organizationId ?? '', ...parts])).digest('hex')}`;

  function setHealthy(next: boolean): void {
    if (next === healthy) return;
    healthy = next;
    for (const listener of healthListeners) listener(next);
  }

  function onMessage(message: string): void {
    let parsed: { from?: unknown; scopes?: unknown; heartbeat?: unknown };
    try {
      parsed = JSON.parse(message) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.from === instance) {
      if (parsed.heartbeat === true) {
        lastHeartbeat = Date.now();
        setHealthy(true);
      }
      return;
    }
    const { scopes } = parsed;
    if (scopes === 'all') for (const listener of invalidationListeners) listener('all');
    else if (Array.isArray(scopes) && scopes.every((scope) => typeof scope === 'string')) {
      for (const listener of invalidationListeners) listener(scopes as string[]);
    }
  }

  /** Increments the generations, then tells the others (in one round trip: node-redis pipelines what is sent in one turn). */
  async function write(scopes: ScopeKeys | 'all'): Promise<void> {
    const fields = scopes === 'all' ? [EVERYTHING] : [...scopes];
    await Promise.all([...fields.map((field) => timed.hIncrBy(generationsKey, field, 1)), timed.publish(channel, JSON.stringify({ from: instance, scopes }))]);
  }

  /** Invalidations that could not be written are written before anything else once Redis answers again. */
  async function flushPending(): Promise<void> {
    while (pending.length > 0) {
      await write(pending[0] as ScopeKeys | 'all');
      pending.shift();
    }
  }

  const heartbeat = setInterval(() => {
    if (Date.now() - lastHeartbeat > HEALTHY_WITHIN_MS) setHealthy(false);
    if (!commands.isReady) return;
    flushPending()
      .then(() => commands.publish(channel, JSON.stringify({ from: instance, heartbeat: true })))
      .catch(() => void counters.errors++);
  }, heartbeatInterval);
  heartbeat.unref();

  const ready = (async () => {
    await Promise.all([commands.isOpen ? undefined : commands.connect(), subscriber.connect()]);
    await subscriber.subscribe(channel, onMessage);
  })();
  // Connection failures are retried by node-redis; until then the store is unhealthy and every read a miss.
  ready.catch(() => void counters.errors++);

  return {
    ready,
    get healthy() {
      return healthy && Date.now() - lastHeartbeat <= HEALTHY_WITHIN_MS;
    },

    async read(key, scopes): Promise<StoreRead> {
      // Not while this instance has invalidations Redis has not heard: its answers may predate them.
      if (!commands.isReady || pending.length > 0) {
        counters.misses++;
        return { found: false, stamp: undefined };
      }
      try {
        const fields = [...scopes, EVERYTHING];
        const [raw, generations] = await Promise.all([timed.get(keyOf(key)), timed.hmGet(generationsKey, fields)]);
        const stamp: StoreStamp = generations.map((value) => (value === null ? 0 : Number(value)));
        if (stamp.some((n) => !Number.isInteger(n))) throw new TypeError('generation is not a number');
        if (typeof raw === 'string') {
          const entry: unknown = JSON.parse(raw);
          if (isEntry(entry) && entry.e > Date.now() && entry.g.length === stamp.length && entry.g.every((n, i) => n === stamp[i])) {
            counters.hits++;
            return { found: true, value: entry.v, expiresAt: entry.e, stamp };
          }
        }
        counters.misses++;
        return { found: false, stamp };
      } catch {
        counters.errors++;
        return { found: false, stamp: undefined };
      }
    },

    write(key, value, _scopes, stamp, expiresAt) {
      const ttl = Math.floor(expiresAt - Date.now());
      if (ttl <= 0 || !commands.isReady) return;
      const entry: Entry = { v: value, e: expiresAt, g: stamp };
      // TTLs are absolute: PX from the answer's own expiry, never renewed by a read.
      timed.set(keyOf(key), JSON.stringify(entry), { expiration: { type: 'PX', value: ttl } }).catch(() => void counters.errors++);
    },

    async invalidate(scopes) {
      if (closed) return;
      pending.push(scopes);
      try {
        await flushPending();
      } catch {
        // Kept: written (and published) before anything else once Redis answers again.
        counters.errors++;
      }
    },

    subscribe(listener) {
      invalidationListeners.push(listener);
    },

    onHealthChange(listener) {
      healthListeners.push(listener);
    },

    stats(): StoreStats {
      return { healthy: this.healthy, ...counters, pendingInvalidations: pending.length };
    },

    async close() {
      closed = true;
      clearInterval(heartbeat);
      setHealthy(false);
      await Promise.allSettled(owned.map((client) => (client.isOpen ? client.close() : undefined)));
    },
  };
}
