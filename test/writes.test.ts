import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer, ServiceUnavailableError, WorkOSRequestError, type Authorizer, type Principal } from '../src/index.js';
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
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: 400 });
});

const ws1 = { type: 'workspace', externalId: 'ws-1' };
let counter = 0;
const fresh = (prefix: string) => `${prefix}-${++counter}`;
const principalOf = (user: string, organization: string): Promise<Principal> => authz.verify(kit.mintToken({ user, organization }));

describe('resources.register / remove', () => {
  it('registers a resource under a parent and returns WorkOS’s resource; registering it again returns the same one', async () => {
    const externalId = fresh('proj');
    const input = { type: 'project', externalId, name: 'Roadmap', organizationId: 'org_acme', parent: ws1 };
    const created = await authz.resources.register(input);
    expect(created).toMatchObject({ externalId, resourceTypeSlug: 'project', organizationId: 'org_acme', parentResourceId: 'authz_resource_ws1', name: 'Roadmap' });
    const again = await authz.resources.register(input);
    expect(again.id).toBe(created.id);
  });

  it('a denial remembered while the resource did not exist is not served once it is registered', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const externalId = fresh('proj');
    const project = { type: 'project', externalId };
    expect(await authz.can(alice, 'project:edit', project)).toBe(false);
    await authz.resources.register({ type: 'project', externalId, name: 'New', organizationId: 'org_acme', parent: ws1 });
    // Alice administers ws-1: its new child is hers to edit, at once.
    expect(await authz.can(alice, 'project:edit', project)).toBe(true);
    // And the listing of ws-1 holds it.
    const listed = await authz.listAccessible(alice, 'project:edit', { parent: ws1 });
    expect(listed.resources.map((r) => r.externalId)).toContain(externalId);
  });

  it('removes by id or by external id (with its organization); a missing resource resolves; grants go at once', async () => {
    const alice = await principalOf('user_alice', 'org_acme');
    const byId = await authz.resources.register({ type: 'project', externalId: fresh('proj'), name: 'A', organizationId: 'org_acme', parent: ws1 });
    const byExternal = { type: 'project', externalId: fresh('proj') };
    await authz.resources.register({ ...byExternal, name: 'B', organizationId: 'org_acme', parent: ws1 });
    expect(await authz.can(alice, 'project:edit', { id: byId.id })).toBe(true);
    expect(await authz.can(alice, 'project:edit', byExternal)).toBe(true);
    await authz.resources.remove({ id: byId.id });
    await authz.resources.remove(byExternal, { organizationId: 'org_acme' });
    expect(await authz.can(alice, 'project:edit', { id: byId.id })).toBe(false);
    expect(await authz.can(alice, 'project:edit', byExternal)).toBe(false);
    await expect(authz.resources.remove({ id: byId.id })).resolves.toBeUndefined();
    await expect(authz.resources.remove(byExternal, { organizationId: 'org_acme' })).resolves.toBeUndefined();
  });

  it('refuses a parent with children unless cascade, with WorkOS’s code', async () => {
    const parent = await authz.resources.register({ type: 'workspace', externalId: fresh('ws'), name: 'W', organizationId: 'org_acme' });
    await authz.resources.register({ type: 'project', externalId: fresh('proj'), name: 'P', organizationId: 'org_acme', parent: { id: parent.id } });
    const refused = await authz.resources.remove({ id: parent.id }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WorkOSRequestError);
    expect(refused).toMatchObject({ status: 409, operation: 'resources.remove' });
    expect((refused as WorkOSRequestError).code).toMatch(/./);
    await authz.resources.remove({ id: parent.id }, { cascade: true });
  });

  it('bad input: a clear TypeError before anything is asked', async () => {
    await expect(authz.resources.register({ type: 'project', externalId: '', name: 'x', organizationId: 'org_acme' })).rejects.toThrow(TypeError);
    await expect(authz.resources.register(null as never)).rejects.toThrow(TypeError);
    await expect(authz.resources.remove({ type: 'project', externalId: 'p-1' })).rejects.toThrow(/organizationId/);
    await expect(authz.roles.assign({ membershipId: 'om_bob', role: '', resource: ws1 })).rejects.toThrow(TypeError);
    expect(kit.calls()).toBe(0);
  });

  it('a missing parent is WorkOS’s 4xx with its code, not a 503', async () => {
    const error = await authz.resources
      .register({ type: 'project', externalId: fresh('proj'), name: 'x', organizationId: 'org_acme', parent: { type: 'workspace', externalId: 'nope' } })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkOSRequestError);
    expect((error as WorkOSRequestError).status).toBeGreaterThanOrEqual(400);
    expect((error as WorkOSRequestError).status).toBeLessThan(500);
    expect((error as WorkOSRequestError).message).toContain('resources.register');
  });
});

describe('roles.assign / remove', () => {
  it('assign then check: granted at once, even with a denial remembered; remove then check: denied at once', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    const p1 = { type: 'project', externalId: 'p-1' };
    expect(await authz.can(bob, 'project:edit', p1)).toBe(false);
    await authz.roles.assign({ membershipId: 'om_bob', role: 'workspace-admin', resource: ws1 });
    expect(await authz.can(bob, 'project:edit', p1)).toBe(true);
    await authz.roles.remove({ membershipId: 'om_bob', role: 'workspace-admin', resource: ws1 });
    expect(await authz.can(bob, 'project:edit', p1)).toBe(false);
  });

  it('is idempotent: assigning twice and removing what is not assigned both resolve', async () => {
    const assignment = { membershipId: 'om_bob', role: 'project-viewer', resource: { type: 'project', externalId: 'p-1' } };
    await authz.roles.assign(assignment);
    await authz.roles.assign(assignment);
    await authz.roles.remove(assignment);
    await expect(authz.roles.remove(assignment)).resolves.toBeUndefined();
  });

  it('an unknown role and a role on the wrong resource type reject with WorkOS’s code', async () => {
    const unknown = await authz.roles.assign({ membershipId: 'om_bob', role: 'no-such-role', resource: ws1 }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(WorkOSRequestError);
    expect((unknown as WorkOSRequestError).status).toBe(404);
    const wrongType = await authz.roles.assign({ membershipId: 'om_bob', role: 'project-viewer', resource: ws1 }).catch((e: unknown) => e);
    expect(wrongType).toMatchObject({ status: 422, code: 'invalid_role_for_resource_type' });
  });

  it('5xx, network and slow answers: ServiceUnavailableError within the budget, and what it may have changed is invalidated', async () => {
    const bob = await principalOf('user_bob', 'org_acme');
    const p1 = { type: 'project', externalId: 'p-1' };
    await authz.can(bob, 'project:edit', p1);
    kit.inject('assignRole', { status: 500 });
    await expect(authz.roles.assign({ membershipId: 'om_bob', role: 'workspace-admin', resource: ws1 })).rejects.toBeInstanceOf(ServiceUnavailableError);
    kit.clearFaults();
    kit.inject('assignRole', { delay: 2_000 });
    const started = Date.now();
    await expect(authz.roles.assign({ membershipId: 'om_bob', role: 'workspace-admin', resource: ws1 })).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1_000);
    kit.clearFaults();
    kit.resetCalls();
    // The outcome was unknown: bob's remembered denial is not served.
    await authz.can(bob, 'project:edit', p1);
    expect(kit.calls('check')).toBe(1);
  });
});
