import fc from 'fast-check';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WorkOS } from '@workos-inc/node';
import { createAuthorizer, ServiceUnavailableError, type Authorizer, type AuthorizerOptions, type Principal } from '../../src/index.js';
import { DecisionKeys } from '../../src/decision-keys.js';
import { cacheKey } from '../../src/resource.js';
import { createTestKit, type TestKit } from '../../testing/index.js';
import { closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import { bearer, expectGuardAnswer, primaryFrameworks, sleep } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());
afterEach(() => {
  kit.clearFaults();
  kit.resetCalls();
});

const project = (id: string) => ({ type: 'project', externalId: id });
const routes: RouteSpec[] = [
  { path: '/projects/:id', permission: 'project:edit', resource: project },
  { path: '/projects/:id/delete', permission: 'project:delete', resource: project },
  { path: '/apps/:id', permission: 'project:edit', resource: (id) => ({ type: 'app', externalId: id }) },
  { path: '/stored/:id', permission: 'project:edit', resource: (id) => ({ id }) },
];

// Deliberately crossed callers (a membership of another user, a user without one): minted unchecked.
const token = (user: string, organization: string, membership?: string) => kit.mintToken({ user, organization, membership, unchecked: true });

describe.each(primaryFrameworks)('$name: cached answers never cross callers', ({ build }) => {
  let authz: Authorizer;
  let app: AppUnderTest;
  beforeAll(() => {
    authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, cache: { ttl: 60_000, negativeTtl: 60_000, max: 1_000 } });
    app = build(authz, routes);
  });
  afterAll(() => closeServer(app.server));

  it("A's allow is never served to B, to another org, permission or resource", async () => {
    const alice = token('user_alice', 'org_acme');
    const get = (path: string, as: string) => request(app.server).get(path).set(bearer(as));

    expect((await get('/projects/p-1', alice)).body.source).toBe('api');
    expect((await get('/projects/p-1', alice)).body.source).toBe('cache');
    kit.resetCalls();

    const others: [string, string][] = [
      ['/projects/p-1', token('user_bob', 'org_acme')], // another user, same org
      ['/projects/p-1', token('user_alice', 'org_acme', 'om_bob')], // the same user, another membership named in the token
      ['/projects/p-1', token('user_alice', 'org_globex')], // the same user in another org
      ['/projects/p-1', token('user_carol', 'org_globex')], // another org entirely
      ['/projects/p-1', token('user_dan', 'org_acme')], // an inactive membership with the same grant
      ['/projects/p-1/delete', alice], // another permission
      ['/projects/p-2', alice], // another resource
      ['/apps/p-1', alice], // another resource type, same external id
      ['/stored/p-1', alice], // the external id used as a resource id
    ];
    for (const [path, as] of others) {
      const res = await get(path, as);
      expectGuardAnswer(res, 403, 'forbidden', [as]);
    }
    // Alice in Globex and Dan (inactive) have no active membership: no check for them; Bob and the token
    // naming om_bob ask the same question (om_bob's), answered once.
    expect(kit.calls('check')).toBe(others.length - 3);
  });

  it('denials are remembered for a shorter time than grants', async () => {
    const short = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, cache: { ttl: 2_000, negativeTtl: 100, max: 100 } });
    const shortApp = build(short, routes);
    try {
      const alice = token('user_alice', 'org_acme', 'om_alice');
      const bob = token('user_bob', 'org_acme', 'om_bob');
      const get = (as: string) => request(shortApp.server).get('/projects/p-1').set(bearer(as));
      expect((await get(alice)).status).toBe(200);
      expect((await get(bob)).status).toBe(403);
      kit.resetCalls();
      expect((await get(alice)).body.source).toBe('cache');
      expect((await get(bob)).status).toBe(403);
      expect(kit.calls('check')).toBe(0);
      await sleep(200);
      expect((await get(alice)).body.source).toBe('cache');
      expect((await get(bob)).status).toBe(403);
      expect(kit.calls('check')).toBe(1);
    } finally {
      await closeServer(shortApp.server);
    }
  });

  it('200 concurrent identical cold checks → exactly 1 lookup and 1 check, all 200 answered', async () => {
    authz.clearCache();
    const alice = token('user_alice', 'org_acme');
    await request(app.server).get('/stored/warm').set(bearer(alice)); // verifies the token, remembers the membership
    authz.clearCache();
    kit.resetCalls();
    kit.inject('listOrganizationMemberships', { delay: 100, times: 1 });
    kit.inject('check', { delay: 100, times: 1 });
    const answers = await Promise.all(Array.from({ length: 200 }, () => request(app.server).get('/projects/p-1').set(bearer(alice))));
    expect(answers.map((res) => res.status)).toEqual(Array(200).fill(200));
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    expect(kit.calls('check')).toBe(1);
  });

  it('a failure of the coalesced call fails all 100 waiters with 503 and is not remembered', async () => {
    authz.clearCache();
    const alice = token('user_alice', 'org_acme', 'om_alice');
    await request(app.server).get('/stored/warm').set(bearer(alice));
    kit.resetCalls();
    // Long enough for all 100 requests to join the one call in flight (and its one retry).
    const remove = kit.inject('check', { status: 500, delay: 250 });
    const answers = await Promise.all(Array.from({ length: 100 }, () => request(app.server).get('/projects/p-1').set(bearer(alice))));
    for (const res of answers) expectGuardAnswer(res, 503, 'unavailable', [alice]);
    expect(kit.calls('check')).toBe(2);
    remove();
    const after = await request(app.server).get('/projects/p-1').set(bearer(alice));
    expect(after.status).toBe(200);
    expect(after.body.source).toBe('api');
  });
});

describe('coalescing in the core', () => {
  it('1 000 concurrent identical checks: one call; its failure reaches every waiter and is forgotten', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const alice = await authz.verify(token('user_alice', 'org_acme'));
    kit.resetCalls();
    kit.inject('listOrganizationMemberships', { status: 503, delay: 50 });
    const failed = await Promise.allSettled(Array.from({ length: 1_000 }, () => authz.check(alice, 'project:edit', project('p-1'))));
    expect(failed.every((r) => r.status === 'rejected' && r.reason instanceof ServiceUnavailableError)).toBe(true);
    expect(kit.calls('listOrganizationMemberships')).toBe(2);
    expect(kit.calls('check')).toBe(0);
    kit.clearFaults();
    kit.resetCalls();
    const decisions = await Promise.all(Array.from({ length: 1_000 }, () => authz.check(alice, 'project:edit', project('p-1'))));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    expect(kit.calls('check')).toBe(1);
  });
});

/** A WorkOS stand-in: no HTTP, counts calls, grants what `grant` says. */
function standIn(grant: (question: Record<string, string>) => boolean = () => true) {
  const calls = { check: 0, memberships: 0 };
  const workos = {
    authorization: {
      check: async (question: Record<string, string>) => {
        calls.check += 1;
        return { authorized: grant(question) };
      },
    },
    userManagement: {
      listOrganizationMemberships: async ({ userId, organizationId }: { userId: string; organizationId: string }) => {
        calls.memberships += 1;
        return { data: [{ id: `om_${userId}`, userId, organizationId, status: 'active' }] };
      },
    },
  } as unknown as WorkOS;
  const options: AuthorizerOptions = { workos, apiKey: 'sk_test', clientId: 'client_test', jwksUrl: 'http://127.0.0.1:9/jwks' };
  return { calls, options };
}

const principal = (userId: string, extra: Partial<Principal> = {}): Principal => ({
  kind: 'user',
  userId,
  organizationId: 'org_1',
  permissions: [],
  claims: {},
  ...extra,
});

describe('cache keys cannot collide', () => {
  it('parts that hold the separator never meet: `a:b` + `c` vs `a` + `b:c`, and the like', async () => {
    const granted = { organizationMembershipId: 'om:1', permissionSlug: 'p:q', resourceTypeSlug: 'a:b', resourceExternalId: 'c' };
    const { calls, options } = standIn((q) => Object.entries(granted).every(([k, v]) => q[k] === v) && Object.keys(q).length === 4);
    const authz = createAuthorizer(options);
    const as = (membership: string) => principal('user_1', { organizationMembershipId: membership });

    expect((await authz.check(as('om:1'), 'p:q', { type: 'a:b', externalId: 'c' })).allowed).toBe(true);
    expect((await authz.check(as('om:1'), 'p:q', { type: 'a:b', externalId: 'c' })).source).toBe('cache');
    const lookAlikes: [string, string, { type: string; externalId: string } | { id: string }][] = [
      ['om:1', 'p:q', { type: 'a', externalId: 'b:c' }],
      ['om:1', 'p:q', { type: 'a:b:c', externalId: 'x' }],
      ['om:1', 'p', { type: 'q:a:b', externalId: 'c' }],
      ['om', '1:p:q', { type: 'a:b', externalId: 'c' }],
      ['om:1:p', 'q', { type: 'a:b', externalId: 'c' }],
      ['om:1', 'p:q', { id: 'a:b:c' }],
      ['om:1', 'p:q', { id: '3:a:b1:c' }],
      ['om:1', 'p:q', { type: 'ext', externalId: 'a:b' }],
      ['3:om:1', 'p:q', { type: 'a:b', externalId: 'c' }],
      ['om:1', 'p:q', { type: 'a', externalId: ':bc' }],
      ['om:1', 'p:q', { id: '3:a:bc' }],
    ];
    for (const [membership, permission, resource] of lookAlikes) {
      const decision = await authz.check(as(membership), permission, resource);
      expect(decision, JSON.stringify([membership, permission, resource])).toMatchObject({ allowed: false, source: 'api' });
    }
    expect(calls.check).toBe(1 + lookAlikes.length);
  });

  it('property: different part lists, and different decisions, always give different keys', () => {
    // Mostly separators and digits: where a naive join would collide.
    const part = fc.oneof(fc.string({ unit: fc.constantFrom(':', '0', '1', '2', 'a') }), fc.string());
    const parts = fc.array(part, { maxLength: 5 });
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        return cacheKey(...a) !== cacheKey(...b);
      }),
      { numRuns: 2_000 },
    );
    const nonEmpty = part.filter((p) => p.length > 0);
    const resource = fc.oneof(fc.record({ id: nonEmpty }), fc.record({ type: nonEmpty, externalId: nonEmpty }));
    const decision = fc.tuple(nonEmpty, resource);
    // One key set for the whole run, as an authorizer has one for its life, and small, so that
    // scopes are forgotten and made again all along: a key never names two different
    // (membership, resource) pairs.
    const keys = new DecisionKeys(8);
    const decided = new Map<string, string>();
    fc.assert(
      fc.property(fc.array(decision, { minLength: 1, maxLength: 20 }), (asked) => {
        for (const pair of asked) {
          const key = keys.keyOf(...pair);
          const named = JSON.stringify(pair);
          if ((decided.get(key) ?? named) !== named) return false;
          decided.set(key, named);
        }
        return true;
      }),
      { numRuns: 2_000 },
    );
  });

  it('decision keys: the same pair asked again has the same key while its scope is remembered, a new one after', () => {
    const keys = new DecisionKeys(2);
    const p1 = { type: 'project', externalId: 'p-1' };
    const first = keys.keyOf('om_a', p1);
    expect(keys.keyOf('om_a', { ...p1 })).toBe(first);
    expect(keys.keyOf('om_a', { type: 'project', externalId: 'p-2' })).not.toBe(first);
    expect(keys.keyOf('om_a', { id: 'p-1' })).not.toBe(first);
    // Two more scopes push om_a's out (2 scopes at most): asked again, it gets a number never used.
    keys.keyOf('om_b', p1);
    keys.keyOf('om_c', p1);
    const again = keys.keyOf('om_a', p1);
    expect(again).not.toBe(first);
    keys.clear();
    expect([first, again]).not.toContain(keys.keyOf('om_a', p1));
  });
});

describe('caches stay at their max', () => {
  it('1 000 000 distinct resources and 20 000 distinct users: every cache holds at most `max`', async () => {
    const { calls, options } = standIn((q) => q.resourceExternalId!.endsWith('0'));
    const max = 1_000;
    const authz = createAuthorizer({ ...options, cache: { ttl: 60_000, negativeTtl: 60_000, max } });
    const alice = principal('user_alice', { organizationMembershipId: 'om_alice' });
    const RESOURCES = 1_000_000;
    for (let i = 0; i < RESOURCES; i += 1_000) {
      const batch = Array.from({ length: 1_000 }, (_, j) => authz.check(alice, 'project:edit', project(`p-${i + j}`)));
      const decisions = await Promise.all(batch);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
      expect(authz.cacheStats().decisions).toBeLessThanOrEqual(max);
      // Let timers and sockets run between batches, as a server's event loop would.
      await new Promise(setImmediate);
    }
    expect(calls.check).toBe(RESOURCES);
    for (let i = 0; i < 20_000; i += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, (_, j) => authz.check(principal(`user_${i + j}`), 'project:edit', project('p-10'))));
      expect(authz.cacheStats().memberships).toBeLessThanOrEqual(max);
      await new Promise(setImmediate);
    }
    expect(calls.memberships).toBe(20_000);
    expect(authz.cacheStats()).toMatchObject({ decisions: max, memberships: max });
    // The newest answers are the ones kept.
    expect((await authz.check(principal('user_19999'), 'project:edit', project('p-10'))).source).toBe('cache');
  }, 60_000);

  it('verified tokens: at most tokenCacheMax remembered', async () => {
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, tokenCacheMax: 20 });
    for (let i = 0; i < 100; i++) await authz.verify(kit.mintToken({ user: `user_${i}`, organization: 'org_acme', unchecked: true }));
    expect(authz.cacheStats().tokens).toBe(20);
  });
});
