import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRedisStore, type RedisStore } from '../redis/index.js';
import { createAuthorizer, type Authorizer, type Principal } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';
import { hasRedisServer, RedisServer } from './support/redis-server.js';

// A clone without redis-server skips these (CI installs it, and fails them without it).
const skip = !hasRedisServer() && !process.env.CI;
if (skip) console.warn('test/redis.test.ts: skipped, no redis-server on PATH (apt-get install redis-server)');

describe.skipIf(skip)('fga-guard/redis', () => {

let kit: TestKit;
let redis: RedisServer;
beforeAll(async () => {
  [kit, redis] = await Promise.all([createTestKit({ seed: testSeed }), RedisServer.start()]);
});
afterAll(async () => {
  await Promise.all([kit.close(), redis.stop()]);
});

const p1 = { type: 'project', externalId: 'p-1' };
let stores: RedisStore[] = [];
let prefix = 0;

/** An instance: its own authorizer and store, all sharing one Redis (and, per test, one key prefix). */
async function instance(cache?: { ttl: number; negativeTtl: number; max: number }): Promise<{ authz: Authorizer; store: RedisStore }> {
  const store = createRedisStore({ url: redis.url, prefix: `t${prefix}`, heartbeatInterval: 50 });
  stores.push(store);
  await store.ready;
  const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, store, ...(cache ? { cache } : {}) });
  await until(() => store.healthy);
  return { authz, store };
}

async function until(condition: () => boolean | Promise<boolean>, ms = 4_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const principalOf = (authz: Authorizer, user = 'user_alice', organization = 'org_acme'): Promise<Principal> =>
  authz.verify(kit.mintToken({ user, organization, expiresIn: 3600 }));

beforeEach(() => {
  prefix += 1;
  kit.clearFaults();
  kit.resetCalls();
});
afterEach(async () => {
  redis.resume();
  await Promise.all(stores.map((store) => store.close()));
  stores = [];
});

describe('createRedisStore', () => {
  it('refuses bad options with a TypeError', () => {
    for (const bad of [undefined, {}, { url: '' }, { url: redis.url, client: {} }, { client: {} }, { url: redis.url, prefix: 'a{b}' }, { url: redis.url, commandTimeout: 0 }]) {
      expect(() => createRedisStore(bad as never)).toThrow(TypeError);
    }
    expect(() => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, store: {} as never })).toThrow(TypeError);
  });

  it('works on a client of the app’s own, and leaves it open on close()', async () => {
    const client = createClient({ url: redis.url });
    await client.connect();
    const store = createRedisStore({ client: client as never, prefix: `own${prefix}` });
    await store.ready;
    await until(() => store.healthy);
    await store.close();
    expect(client.isOpen).toBe(true);
    await client.close();
  });
});

describe('shared answers', () => {
  it('an instance with a cold memory asks Redis before WorkOS: decisions and membership lookups are shared', async () => {
    const a = await instance();
    const b = await instance();
    expect(await a.authz.can(await principalOf(a.authz), 'project:edit', p1)).toBe(true);
    expect(kit.calls('check')).toBe(1);
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the writes to Redis are not awaited
    kit.resetCalls();
    const decision = await b.authz.check(await principalOf(b.authz), 'project:edit', p1);
    expect(decision).toMatchObject({ allowed: true, source: 'cache' });
    // (Each instance fetches the JWKS itself: tokens are never stored in Redis.)
    expect(kit.calls('check') + kit.calls('listOrganizationMemberships')).toBe(0);
    expect(b.store.stats().hits).toBe(2);
  });

  it('invalidate() on one instance reaches every instance’s own memory, and Redis', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()];
    for (const { authz } of [a, b]) await authz.can(await principalOf(authz), 'project:edit', p1);
    const workos = kit.workos();
    const target = { organizationMembershipId: 'om_alice', roleSlug: 'workspace-admin', resourceExternalId: 'ws-1', resourceTypeSlug: 'workspace' };
    await workos.authorization.removeRole(target);
    try {
      await a.authz.invalidate({ membershipId: 'om_alice' });
      const bob = await principalOf(b.authz);
      await until(async () => (await b.authz.can(bob, 'project:edit', p1)) === false, 1_000);
      // A third instance, cold: the shared answer is stale, so it asks WorkOS.
      expect(await c.authz.can(await principalOf(c.authz), 'project:edit', p1)).toBe(false);
    } finally {
      await workos.authorization.assignRole(target);
    }
  });

  it('an answer whose upstream call spans an invalidation is stale at birth in Redis too', async () => {
    const a = await instance();
    const b = await instance();
    const alice = await principalOf(a.authz);
    await a.authz.membershipOf(alice);
    kit.inject('check', { delay: 150 });
    const pending = a.authz.can(alice, 'project:edit', p1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await b.authz.invalidate({ resource: p1 });
    await pending;
    kit.clearFaults();
    kit.resetCalls();
    await b.authz.can(await principalOf(b.authz), 'project:edit', p1);
    expect(kit.calls('check')).toBe(1);
  });

  it('TTLs are absolute: a shared answer dies when it was due to, however often it is read', async () => {
    const cache = { ttl: 600, negativeTtl: 600, max: 100 };
    const a = await instance(cache);
    await a.authz.can(await principalOf(a.authz), 'project:edit', p1);
    const written = Date.now();
    kit.resetCalls();
    // Instance after instance, each with a cold memory, reads it from Redis…
    while (Date.now() - written < 350) {
      const b = await instance(cache);
      expect(await b.authz.can(await principalOf(b.authz), 'project:edit', p1)).toBe(true);
    }
    expect(kit.calls('check')).toBe(0);
    // …and once its 600 ms are over, none does.
    await new Promise((resolve) => setTimeout(resolve, 650 - (Date.now() - written)));
    const late = await instance(cache);
    await late.authz.can(await principalOf(late.authz), 'project:edit', p1);
    expect(kit.calls('check')).toBe(1);
  });

  it("consistency: 'fresh' asks WorkOS, not Redis", async () => {
    const a = await instance();
    const b = await instance();
    await a.authz.can(await principalOf(a.authz), 'project:edit', p1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    kit.resetCalls();
    await b.authz.can(await principalOf(b.authz), 'project:edit', p1, { consistency: 'fresh' });
    expect(kit.calls('check')).toBe(1);
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
  });

  it('keys never cross: another user, permission, resource or organization is another answer; no token is stored', async () => {
    const a = await instance();
    const b = await instance();
    const alice = await principalOf(a.authz);
    await a.authz.can(alice, 'project:edit', p1);
    kit.resetCalls();
    const others: Array<[string, string, string, { type: string; externalId: string }]> = [
      ['user_bob', 'org_acme', 'project:edit', p1],
      ['user_alice', 'org_acme', 'project:view', p1],
      ['user_alice', 'org_acme', 'project:edit', { type: 'project', externalId: 'p-2' }],
      ['user_carol', 'org_globex', 'project:edit', p1],
    ];
    for (const [user, organization, permission, resource] of others) await b.authz.can(await principalOf(b.authz, user, organization), permission, resource);
    expect(kit.calls('check')).toBe(4);
    const client = createClient({ url: redis.url });
    await client.connect();
    const keys = await client.keys(`t${prefix}:*`);
    const values = await Promise.all(keys.map(async (key) => ((await client.type(key)) === 'string' ? await client.get(key) : JSON.stringify(await client.hGetAll(key)))));
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', expiresIn: 3600 });
    const everything = keys.join('\n') + values.join('\n');
    expect(everything).not.toContain(token.split('.')[2]);
    expect(everything).not.toContain('eyJ');
    // One hash tag per organization.
    expect(new Set(keys.filter((key) => key.includes(':d:')).map((key) => key.split(':')[1])).size).toBe(2);
    await client.close();
  });
});

describe('Redis down, slow or answering garbage', () => {
  it('killed and restarted: answers stay right from WorkOS, memory is not trusted meanwhile, and it reconnects by itself', async () => {
    const a = await instance();
    const alice = await principalOf(a.authz);
    expect(await a.authz.can(alice, 'project:edit', p1)).toBe(true);
    await redis.kill();
    try {
      await until(() => !a.store.healthy, 2_000);
      expect(a.authz.cacheStats().store?.healthy).toBe(false);
      kit.resetCalls();
      // Not from this instance's memory (an invalidation could be missed): from WorkOS.
      expect(await a.authz.can(alice, 'project:edit', p1)).toBe(true);
      expect(kit.calls('check')).toBe(1);
      // An invalidation made meanwhile is kept and written once Redis is back.
      await a.authz.invalidate({ membershipId: 'om_alice' });
      expect(a.authz.cacheStats().store?.pendingInvalidations).toBe(1);
    } finally {
      await redis.run();
    }
    await until(() => a.store.healthy, 5_000);
    await until(() => a.authz.cacheStats().store?.pendingInvalidations === 0, 2_000);
    expect(await a.authz.can(alice, 'project:edit', p1)).toBe(true);
  });

  it('frozen (SIGSTOP) mid-load: every request is answered within the store timeout plus WorkOS, none wrong', async () => {
    const a = await instance();
    const alice = await principalOf(a.authz);
    const bob = await principalOf(a.authz, 'user_bob');
    const load = async () => {
      const answers = await Promise.all([a.authz.can(alice, 'project:edit', p1), a.authz.can(bob, 'project:edit', p1), a.authz.can(alice, 'project:view', p1)]);
      expect(answers).toEqual([true, false, false]);
    };
    await load();
    redis.pause();
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      a.authz.clearCache();
      await load();
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    await until(() => !a.store.healthy, 2_000);
    redis.resume();
    await until(() => a.store.healthy, 5_000);
    await load();
  });

  it('garbage under its keys is a miss, never an answer', async () => {
    const a = await instance();
    await a.authz.can(await principalOf(a.authz), 'project:edit', p1);
    const client = createClient({ url: redis.url });
    await client.connect();
    for (const key of await client.keys(`t${prefix}:*`)) if ((await client.type(key)) === 'string') await client.set(key, '{"v":true,"e":"soon","g":[]}');
    await client.hSet(`t${prefix}:{generations}`, '*', 'not a number');
    await client.close();
    const b = await instance();
    kit.resetCalls();
    expect(await b.authz.can(await principalOf(b.authz, 'user_bob'), 'project:edit', p1)).toBe(false);
    expect(await b.authz.can(await principalOf(b.authz), 'project:edit', p1)).toBe(true);
    expect(kit.calls('check')).toBe(2);
  });
});
});
