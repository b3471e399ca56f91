import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer, type Authorizer, type Principal } from '../src/index.js';
import { Generations, scopeKeysOf } from '../src/invalidation.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

let kit: TestKit;
let authz: Authorizer;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
});

const ws1 = { type: 'workspace', externalId: 'ws-1' };
const p1 = { type: 'project', externalId: 'p-1' };
const principalOf = (user: string, organization: string, membership?: string): Promise<Principal> =>
  authz.verify(kit.mintToken({ user, organization, membership }));

/** Changes the kit's model behind fga-guard's back, as the dashboard or another process would. */
async function withoutRole<T>(membership: string, role: string, resource: typeof ws1, during: () => Promise<T>): Promise<T> {
  const workos = kit.workos();
  const target = { resourceExternalId: resource.externalId, resourceTypeSlug: resource.type };
  await workos.authorization.removeRole({ organizationMembershipId: membership, roleSlug: role, ...target });
  try {
    return await during();
  } finally {
    await workos.authorization.assignRole({ organizationMembershipId: membership, roleSlug: role, ...target });
  }
}

describe('invalidate(scope)', () => {
  it('refuses anything that is not a scope with a TypeError, and changes nothing', async () => {
    const bad: unknown[] = [undefined, null, 'om_alice', [], {}, { organizationId: '' }, { membershipId: 42 }, { user: 'user_alice' }, { resource: {} }, { resource: { id: '' } }];
    for (const scope of bad) await expect(authz.invalidate(scope as never)).rejects.toThrow(TypeError);
  });

  for (const [name, scopeOf] of [
    ['membershipId', () => ({ membershipId: 'om_alice' })],
    ['userId', () => ({ userId: 'user_alice' })],
    ['resource', () => ({ resource: p1 })],
    ['organizationId', () => ({ organizationId: 'org_acme' })],
  ] as const) {
    it(`${name}: a remembered grant is not served after the change and invalidate()`, async () => {
      const alice = await principalOf('user_alice', 'org_acme');
      expect(await authz.can(alice, 'project:edit', p1)).toBe(true);
      await withoutRole('om_alice', 'workspace-admin', ws1, async () => {
        // Remembered: the change is not seen yet (this is what invalidate() is for).
        expect(await authz.can(alice, 'project:edit', p1)).toBe(true);
        await authz.invalidate(scopeOf());
        expect(await authz.can(alice, 'project:edit', p1)).toBe(false);
      });
    });
  }

  it('leaves what the scope cannot affect remembered', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const carol = await principalOf('user_carol', 'org_globex');
    const a1 = { type: 'app', externalId: 'a-1' };
    await authz.checkMany(alice, [{ permission: 'project:edit', resource: p1 }, { permission: 'app:deploy', resource: a1 }]);
    await authz.can(carol, 'project:edit', { type: 'project', externalId: 'p-2' });
    kit.resetCalls();
    await authz.invalidate({ resource: p1 });
    await authz.invalidate({ organizationId: 'org_globex' });
    await authz.invalidate({ membershipId: 'om_bob' });
    expect(await authz.can(alice, 'app:deploy', a1)).toBe(true);
    expect(kit.calls()).toBe(0);
    expect(await authz.can(alice, 'project:edit', p1)).toBe(true);
    expect(await authz.can(carol, 'project:edit', { type: 'project', externalId: 'p-2' })).toBe(true);
    // p-1 (the resource) and carol (her organization) were asked again: one check each.
    expect(kit.calls('check')).toBe(2);
  });

  it('userId and organizationId drop remembered membership lookups; membershipId the lookup that found it', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    await authz.can(alice, 'project:edit', p1);
    for (const scope of [{ userId: 'user_alice' }, { organizationId: 'org_acme' }, { membershipId: 'om_alice' }]) {
      kit.resetCalls();
      await authz.invalidate(scope);
      await authz.can(alice, 'project:edit', p1);
      expect(kit.calls('listOrganizationMemberships')).toBe(1);
    }
    kit.resetCalls();
    await authz.invalidate({ userId: 'user_bob' });
    await authz.can(alice, 'project:edit', p1);
    expect(kit.calls()).toBe(0);
  });

  it('drops listings under the resource, listings that hold it, and listings of the membership', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const list = () => authz.listAccessible(alice, 'project:edit', { parent: ws1 });
    await list();
    for (const scope of [{ resource: ws1 }, { resource: p1 }, { membershipId: 'om_alice' }, { organizationId: 'org_acme' }]) {
      kit.resetCalls();
      await authz.invalidate(scope);
      await list();
      expect(kit.calls('listResourcesForMembership')).toBe(1);
    }
    kit.resetCalls();
    await authz.invalidate({ resource: { type: 'project', externalId: 'p-2' } });
    await list();
    expect(kit.calls()).toBe(0);
  });

  it('an upstream call in flight across an invalidation does not fill the cache', async () => {
    const alice = await principalOf('user_alice', 'org_acme', 'om_alice');
    kit.inject('check', { delay: 150 });
    const pending = authz.can(alice, 'project:edit', p1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await authz.invalidate({ membershipId: 'om_alice' });
    await pending;
    expect(authz.cacheStats().decisions).toBe(0);
    kit.clearFaults();
    await authz.can(alice, 'project:edit', p1);
    expect(kit.calls('check')).toBe(2);
    expect(authz.cacheStats().decisions).toBe(1);
  });

  it('a check asked after an invalidation does not join a call that started before it', async () => {
    const alice = await principalOf('user_alice', 'org_acme', 'om_alice');
    kit.inject('check', { delay: 100 });
    const before = authz.can(alice, 'project:edit', p1);
    const joined = authz.can(alice, 'project:edit', p1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await authz.invalidate({ resource: p1 });
    const after = authz.can(alice, 'project:edit', p1);
    await Promise.all([before, joined, after]);
    expect(kit.calls('check')).toBe(2);
    // Only the answer of the call started after the invalidation is remembered.
    expect(authz.cacheStats().decisions).toBe(1);
  });

  it('clearCache() also keeps a call in flight from putting its answer back', async () => {
    const alice = await principalOf('user_alice', 'org_acme', 'om_alice');
    const removeFault = kit.inject('check', { delay: 100 });
    const pending = authz.can(alice, 'project:edit', p1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    authz.clearCache();
    removeFault();
    await pending;
    expect(authz.cacheStats().decisions).toBe(0);
  });
});

describe('generations', () => {
  it('an invalidation costs the same with 10 000 remembered answers as with none (no scan)', () => {
    const generations = new Generations();
    const stamps = Array.from({ length: 10_000 }, (_, i) => ({ born: generations.current, scopes: scopeKeysOf({ membershipId: `om_${i}` }) }));
    generations.invalidate(scopeKeysOf({ membershipId: 'om_7' }));
    expect(stamps.filter((stamp) => !generations.holds(stamp)).map((stamp) => stamp.scopes)).toEqual([['mom_7']]);
    // Current stamps are moved up: the next read with no new invalidation is one comparison.
    expect(stamps[0]?.born).toBe(generations.current);
  });

  it('an answer born before an invalidation of its scope is stale, one born after is current', () => {
    const generations = new Generations();
    const scopes = scopeKeysOf({ resource: { type: 'project', externalId: 'p-1' } });
    const born = generations.current;
    generations.invalidate(scopes);
    expect(generations.isCurrent(born, scopes)).toBe(false);
    expect(generations.isCurrent(generations.current, scopes)).toBe(true);
    // The same ids in another kind of scope are another scope.
    expect(generations.isCurrent(born, scopeKeysOf({ membershipId: 'project' }))).toBe(true);
    generations.invalidateAll();
    expect(generations.isCurrent(born, scopeKeysOf({ userId: 'anyone' }))).toBe(false);
  });
});
