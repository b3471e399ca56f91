import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer, ServiceUnavailableError, type Authorizer, type Principal } from '../src/index.js';
import { createTestKit, type TestKit, type TestKitSeed } from '../testing/index.js';
import { testSeed } from './support/model.js';

/** ws-1 gets eight more projects; bob views two of them by a direct role; org_globex has its own. */
const projects = Array.from({ length: 8 }, (_, i) => `q-${i + 1}`);
/** More children than one page holds (WorkOS pages hold 100). */
const many = Array.from({ length: 130 }, (_, i) => `m-${i + 1}`);
const seed: TestKitSeed = {
  ...testSeed,
  resources: [
    ...(testSeed.resources ?? []),
    ...projects.map((externalId) => ({ type: 'project', externalId, organization: 'org_acme', parent: { type: 'workspace', externalId: 'ws-1' } })),
    { type: 'workspace', externalId: 'ws-big', organization: 'org_acme' },
    ...many.map((externalId) => ({ type: 'project', externalId, organization: 'org_acme', parent: { type: 'workspace', externalId: 'ws-big' } })),
  ],
  assignments: [
    ...(testSeed.assignments ?? []),
    { membership: 'om_bob', role: 'project-viewer', resource: { type: 'project', externalId: 'q-2' } },
    { membership: 'om_bob', role: 'project-viewer', resource: { type: 'project', externalId: 'q-5' } },
    { membership: 'om_alice', role: 'workspace-admin', resource: { type: 'workspace', externalId: 'ws-big' } },
  ],
};

let kit: TestKit;
let authz: Authorizer;
beforeAll(async () => {
  kit = await createTestKit({ seed });
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
});
afterAll(() => kit.close());
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
  authz.clearCache();
});

const ws1 = { type: 'workspace', externalId: 'ws-1' };
const principalOf = (user: string, organization: string, permissions?: string[]): Promise<Principal> =>
  authz.verify(kit.mintToken({ user, organization, permissions }));

describe('listAccessible', () => {
  it('lists the children of the parent on which the membership holds the permission', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    const list = await authz.listAccessible(bob, 'project:view', { parent: ws1 });
    expect(list.complete).toBe(true);
    expect(list.resources.map((r) => r.externalId).sort()).toEqual(['q-2', 'q-5']);
    expect(list.resources[0]).toMatchObject({ type: 'project', parentId: 'authz_resource_ws1' });
    expect(typeof list.resources[0]?.id).toBe('string');
    // Remembered: the same question asks nothing.
    kit.resetCalls();
    expect(await authz.listAccessible(bob, 'project:view', { parent: ws1 })).toEqual(list);
    expect(kit.calls()).toBe(0);
  });

  it('follows the pages up to maxResults, and says when more exist', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const all = await authz.listAccessible(alice, 'project:edit', { parent: ws1 });
    expect(all.resources.map((r) => r.externalId).sort()).toEqual(['p-1', ...projects].sort());
    expect(all.complete).toBe(true);
    const some = await authz.listAccessible(alice, 'project:edit', { parent: ws1, maxResults: 3 });
    expect(some.resources).toHaveLength(3);
    expect(some.complete).toBe(false);

    kit.resetCalls();
    const big = { type: 'workspace', externalId: 'ws-big' };
    const paged = await authz.listAccessible(alice, 'project:edit', { parent: big });
    expect(new Set(paged.resources.map((r) => r.externalId))).toEqual(new Set(many));
    expect(paged.complete).toBe(true);
    expect(kit.calls('listResourcesForMembership')).toBe(2);
    const bounded = await authz.listAccessible(alice, 'project:edit', { parent: big, maxResults: 110 });
    expect(bounded).toMatchObject({ complete: false });
    expect(bounded.resources).toHaveLength(110);
  });

  it("with the permission in the token: every child of the parent, in the caller's organization only", async () => {
    const carol = await principalOf('user_carol', 'org_globex', ['project:view']);
    const foreign = await authz.listAccessible(carol, 'project:view', { parent: { id: 'authz_resource_ws1' } });
    expect(foreign).toEqual({ resources: [], complete: true });
    const dan = await principalOf('user_bob', 'org_acme', ['project:view']);
    const own = await authz.listAccessible(dan, 'project:view', { parent: { id: 'authz_resource_ws1' } });
    expect(own.resources).toHaveLength(9);
    expect(kit.calls('listResourcesForMembership')).toBe(0);
  });

  it('never shares a listing across memberships or permissions', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    const alice = await principalOf('user_alice', 'org_acme');
    expect((await authz.listAccessible(bob, 'project:edit', { parent: ws1 })).resources).toEqual([]);
    expect((await authz.listAccessible(alice, 'project:edit', { parent: ws1 })).resources).toHaveLength(9);
    expect((await authz.listAccessible(alice, 'project:view', { parent: ws1 })).resources).toEqual([]);
  });

  it('refuses bad input, and answers 503 when WorkOS cannot', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    for (const options of [undefined, {}, { parent: { id: '' } }, { parent: ws1, maxResults: 0 }]) {
      await expect(authz.listAccessible(bob, 'project:view', options as never)).rejects.toThrow(TypeError);
    }
    kit.inject('listResourcesForMembership', { status: 500 });
    await expect(authz.listAccessible(bob, 'project:view', { parent: ws1 })).rejects.toThrow(ServiceUnavailableError);
  });
});

describe('filterAccessible', () => {
  const items = ['p-1', ...projects, 'p-2'].map((externalId) => ({ slug: externalId }));
  const toResource = (item: { slug: string }) => ({ type: 'project', externalId: item.slug });

  it('returns exactly the items can() grants, in input order', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    const filtered = await authz.filterAccessible(bob, 'project:view', items, toResource);
    expect(filtered.map((i) => i.slug)).toEqual(['q-2', 'q-5']);
    for (const item of items) expect(await authz.can(bob, 'project:view', toResource(item))).toBe(filtered.includes(item));
  });

  it('with a parent: one listing, and checks only for what it did not return', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const filtered = await authz.filterAccessible(alice, 'project:edit', items, toResource, { parent: ws1 });
    expect(filtered.map((i) => i.slug)).toEqual(['p-1', ...projects]);
    expect(kit.calls('listResourcesForMembership')).toBe(1);
    // p-2 (org_globex's) was not listed: it is checked, and denied.
    expect(kit.calls('check')).toBe(1);
  });

  it('asks nothing when the token grants and the items are external ids', async () => {
    const bob = await principalOf('user_bob', 'org_acme', ['project:view']);
    kit.resetCalls();
    expect(await authz.filterAccessible(bob, 'project:view', items, toResource, { parent: ws1 })).toEqual(items);
    expect(kit.calls()).toBe(0);
  });

  it('refuses bad input before asking anything', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    kit.resetCalls();
    await expect(authz.filterAccessible(bob, 'project:view', 'p-1' as never, toResource)).rejects.toThrow(TypeError);
    await expect(authz.filterAccessible(bob, 'project:view', items, (() => ({ id: '' })) as never)).rejects.toThrow(TypeError);
    await expect(authz.filterAccessible(bob, 'project:view', items, toResource, { concurrency: -1 })).rejects.toThrow(TypeError);
    expect(kit.calls()).toBe(0);
  });
});
