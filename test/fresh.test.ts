import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requirePermission as expressGuard } from '../adapters/express.js';
import { requirePermission as koaGuard } from '../adapters/koa.js';
import { createAuthorizer, type Authorizer, type Principal } from '../src/index.js';
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

const p1 = { type: 'project', externalId: 'p-1' };
const principalOf = (user: string, organization: string): Promise<Principal> => authz.verify(kit.mintToken({ user, organization }));

describe("consistency: 'fresh'", () => {
  it('check, can and checkMany skip remembered decisions and membership lookups; the fresh answer is remembered for others', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    await authz.check(alice, 'project:edit', p1);
    kit.resetCalls();
    expect((await authz.check(alice, 'project:edit', p1, { consistency: 'fresh' })).source).toBe('api');
    expect(await authz.can(alice, 'project:edit', p1, { consistency: 'fresh' })).toBe(true);
    const [many] = await authz.checkMany(alice, [{ permission: 'project:edit', resource: p1 }], { consistency: 'fresh', concurrency: 2 });
    expect(many?.source).toBe('api');
    expect(kit.calls('check')).toBe(3);
    expect(kit.calls('listOrganizationMemberships')).toBe(3);
    // 'cached' (the default) is served from what the fresh reads learned.
    kit.resetCalls();
    expect((await authz.check(alice, 'project:edit', p1, { consistency: 'cached' })).source).toBe('cache');
    expect((await authz.check(alice, 'project:edit', p1)).source).toBe('cache');
    expect(kit.calls()).toBe(0);
  });

  it('identical fresh reads in flight share one call', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    kit.inject('check', { delay: 50 });
    const answers = await Promise.all(Array.from({ length: 5 }, () => authz.can(alice, 'project:edit', p1, { consistency: 'fresh' })));
    expect(answers).toEqual([true, true, true, true, true]);
    expect(kit.calls('check')).toBe(1);
  });

  it('sees a change made behind its back at once, where a cached read does not', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    expect(await authz.can(bob, 'project:view', p1)).toBe(false);
    const workos = kit.workos();
    const target = { organizationMembershipId: 'om_bob', roleSlug: 'project-viewer', resourceExternalId: 'p-1', resourceTypeSlug: 'project' };
    await workos.authorization.assignRole(target);
    try {
      expect(await authz.can(bob, 'project:view', p1)).toBe(false);
      expect(await authz.can(bob, 'project:view', p1, { consistency: 'fresh' })).toBe(true);
    } finally {
      await workos.authorization.removeRole(target);
    }
  });

  it('anything but cached or fresh is a TypeError, before anything is asked', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    kit.resetCalls();
    await expect(authz.check(alice, 'project:edit', p1, { consistency: 'strong' as never })).rejects.toThrow(TypeError);
    await expect(authz.can(alice, 'project:edit', p1, 'fresh' as never)).rejects.toThrow(TypeError);
    await expect(authz.checkMany(alice, [{ permission: 'project:edit', resource: p1 }], { consistency: 1 as never })).rejects.toThrow(TypeError);
    await expect(authz.listAccessible(alice, 'project:edit', { parent: p1, consistency: 'now' as never })).rejects.toThrow(TypeError);
    expect(() => expressGuard(authz, 'project:edit', { resource: p1, consistency: 'latest' as never })).toThrow(TypeError);
    expect(() => koaGuard(authz, 'project:edit', { resource: p1, consistency: 'latest' as never })).toThrow(TypeError);
    expect(kit.calls()).toBe(0);
  });

  it('listAccessible and filterAccessible read fresh too', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const ws1 = { type: 'workspace', externalId: 'ws-1' };
    await authz.listAccessible(alice, 'project:edit', { parent: ws1 });
    kit.resetCalls();
    await authz.listAccessible(alice, 'project:edit', { parent: ws1, consistency: 'fresh' });
    await authz.filterAccessible(alice, 'project:edit', [p1], (item) => item, { parent: ws1, consistency: 'fresh' });
    expect(kit.calls('listResourcesForMembership')).toBe(2);
  });
});
