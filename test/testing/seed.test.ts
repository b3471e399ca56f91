import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKit, demoSeed, SeedError, type TestKit, type TestKitSeed } from '../../testing/index.js';

const model: TestKitSeed = {
  resourceTypes: [{ slug: 'workspace' }, { slug: 'project', parent: 'workspace' }],
  roles: [
    { slug: 'member', permissions: ['org:view'] },
    { slug: 'project-viewer', resourceType: 'project', permissions: ['project:view'] },
  ],
  organizations: [{ id: 'org_acme', name: 'Acme' }],
  users: [{ id: 'user_alice', email: 'alice@acme.test' }],
  memberships: [{ id: 'om_alice', user: 'user_alice', organization: 'org_acme', role: 'member' }],
  resources: [{ type: 'workspace', externalId: 'ws-1', organization: 'org_acme' }],
};

/** The error createTestKit gives for `model` extended with `extra`. */
async function seedError(extra: TestKitSeed): Promise<string> {
  const seed = { ...model, ...extra };
  const error: unknown = await createTestKit({ seed }).then(
    async (kit) => {
      await kit.close();
      throw new Error('seed was accepted');
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(SeedError);
  return (error as SeedError).message;
}

describe('seed validation names the offending entry', () => {
  it.each([
    [{ resourceTypes: [{ slug: 'project', parent: 'workspace' }] }, /^seed\.resourceTypes\[0\]: .*parent type workspace/],
    [
      { resources: [...(model.resources ?? []), { type: 'project', externalId: 'p-1', organization: 'org_acme', parent: { type: 'workspace', externalId: 'ws-9' } }] },
      /^seed\.resources\[1\]: .*workspace\/ws-9/,
    ],
    [{ resources: [{ type: 'galaxy', externalId: 'g-1', organization: 'org_acme' }] }, /^seed\.resources\[0\]: .*resource type galaxy/],
    [{ resources: [{ type: 'project', externalId: 'p-1', organization: 'org_acme' }] }, /^seed\.resources\[0\]: .*parent of type workspace/],
    [
      { assignments: [{ membership: 'om_alice', role: 'project-viewer', resource: { type: 'workspace', externalId: 'ws-1' } }] },
      /^seed\.assignments\[0\]: Role project-viewer is scoped to project/,
    ],
    [{ memberships: [{ user: 'user_nobody', organization: 'org_acme' }] }, /^seed\.memberships\[0\]: User user_nobody not found/],
    [{ memberships: [{ user: 'user_alice', organization: 'org_acme', role: 'project-viewer' }] }, /^seed\.memberships\[0\]: .*organization-level role/],
    [{ roles: [{ slug: 'x', resourceType: 'nope' }] }, /^seed\.roles\[0\]: Unknown resource type nope/],
    [{ users: [{ id: 'user_x' } as never] }, /^seed\.users\[0\]: email must be a non-empty string/],
  ])('%#', async (extra, expected) => {
    expect(await seedError(extra)).toMatch(expected);
  });
});

describe('seeding', () => {
  let kit: TestKit;
  beforeAll(async () => {
    kit = await createTestKit({ seed: model });
  });
  afterAll(() => kit.close());

  it('keeps given ids and generates WorkOS-style ones', async () => {
    const resource = await kit.workos().authorization.getResourceByExternalId({
      organizationId: 'org_acme',
      resourceTypeSlug: 'workspace',
      externalId: 'ws-1',
    });
    expect(resource.id).toMatch(/^authz_resource_[0-9A-Z]{26}$/);
    expect((await kit.workos().userManagement.getOrganizationMembership('om_alice')).userId).toBe('user_alice');
  });

  it('adds fragments at run time, all or nothing', async () => {
    const workos = kit.workos();
    expect(() =>
      kit.seed({
        users: [{ id: 'user_bob', email: 'bob@acme.test' }],
        memberships: [{ id: 'om_bob', user: 'user_bob', organization: 'org_nowhere' }],
      }),
    ).toThrow(/^seed\.memberships\[0\]: Organization org_nowhere not found/);
    kit.seed({ users: [{ id: 'user_bob', email: 'bob@acme.test' }], memberships: [{ id: 'om_bob', user: 'user_bob', organization: 'org_acme' }] });
    kit.seed({
      resources: [{ id: 'authz_resource_p1', type: 'project', externalId: 'p-1', organization: 'org_acme', parent: { type: 'workspace', externalId: 'ws-1' } }],
      assignments: [{ membership: 'om_bob', role: 'project-viewer', resource: { id: 'authz_resource_p1' } }],
    });
    const check = await workos.authorization.check({ organizationMembershipId: 'om_bob', permissionSlug: 'project:view', resourceId: 'authz_resource_p1' });
    expect(check.authorized).toBe(true);
  });

  it('setMembershipStatus takes effect on the next check', async () => {
    const check = () =>
      kit.workos().authorization.check({ organizationMembershipId: 'om_alice', permissionSlug: 'org:view', resourceExternalId: 'ws-1', resourceTypeSlug: 'workspace' });
    expect((await check()).authorized).toBe(true);
    kit.setMembershipStatus('om_alice', 'inactive');
    expect((await check()).authorized).toBe(false);
    kit.setMembershipStatus('om_alice', 'active');
  });
});

describe('demoSeed', () => {
  let kit: TestKit;
  beforeAll(async () => {
    kit = await createTestKit({ seed: demoSeed });
  });
  afterAll(() => kit.close());

  it.each([
    ['om_alice', 'app:deploy', 'a-1', 'app', true],
    ['om_alice', 'billing:view', 'ws-1', 'workspace', false],
    ['om_bob', 'project:edit', 'p-1', 'project', false],
    ['om_bob', 'workspace:view', 'ws-1', 'workspace', true],
    ['om_dave', 'project:edit', 'p-2', 'project', true],
    ['om_carol', 'workspace:view', 'ws-2', 'workspace', true],
    ['om_carol', 'project:view', 'p-3', 'project', false],
  ])('%s %s on %s → %s', async (membership, permission, externalId, type, expected) => {
    const result = await kit.workos().authorization.check({
      organizationMembershipId: membership,
      permissionSlug: permission,
      resourceExternalId: externalId,
      resourceTypeSlug: type,
    });
    expect(result.authorized).toBe(expected);
  });
});
