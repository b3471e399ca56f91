import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictException, NotFoundException, UnprocessableEntityException, type WorkOS } from '@workos-inc/node';
import { createTestKit, type TestKit, type TestKitSeed } from '../../testing/index.js';
import { instant, timestampType } from '../support/sdk.js';

// Types, roles and people only: every resource and assignment below is made through the real SDK.
const seed: TestKitSeed = {
  resourceTypes: [{ slug: 'workspace' }, { slug: 'project', parent: 'workspace' }, { slug: 'app', parent: 'project' }],
  roles: [
    { slug: 'member', permissions: ['org:view'] },
    { slug: 'workspace-admin', resourceType: 'workspace', permissions: ['workspace:edit', 'project:edit', 'app:deploy'] },
    { slug: 'project-viewer', resourceType: 'project', permissions: ['project:view'] },
  ],
  organizations: [
    { id: 'org_acme', name: 'Acme' },
    { id: 'org_globex', name: 'Globex' },
  ],
  users: [
    { id: 'user_alice', email: 'alice@acme.test' },
    { id: 'user_bob', email: 'bob@acme.test' },
    { id: 'user_carol', email: 'carol@globex.test' },
    { id: 'user_erin', email: 'erin@acme.test' },
  ],
  memberships: [
    { id: 'om_alice', user: 'user_alice', organization: 'org_acme', role: 'member' },
    { id: 'om_bob', user: 'user_bob', organization: 'org_acme', role: 'member' },
    { id: 'om_carol', user: 'user_carol', organization: 'org_globex', role: 'member' },
    { id: 'om_erin', user: 'user_erin', organization: 'org_acme', role: 'member', status: 'pending' },
  ],
};

let kit: TestKit;
let workos: WorkOS;
let workspaceId: string;
let projectId: string;
let appId: string;
let startedAt: number;

beforeAll(async () => {
  startedAt = Date.now();
  kit = await createTestKit({ seed });
  workos = kit.workos({ maxRetries: 0 });
  const workspace = await workos.authorization.createResource({
    organizationId: 'org_acme',
    resourceTypeSlug: 'workspace',
    externalId: 'ws-1',
    name: 'Workspace 1',
  });
  const project = await workos.authorization.createResource({
    organizationId: 'org_acme',
    resourceTypeSlug: 'project',
    externalId: 'p-1',
    name: 'Project 1',
    parentResourceId: workspace.id,
  });
  const app = await workos.authorization.createResource({
    organizationId: 'org_acme',
    resourceTypeSlug: 'app',
    externalId: 'a-1',
    name: 'App 1',
    parentResourceExternalId: 'p-1',
    parentResourceTypeSlug: 'project',
  });
  [workspaceId, projectId, appId] = [workspace.id, project.id, app.id];
  await workos.authorization.assignRole({ organizationMembershipId: 'om_alice', roleSlug: 'workspace-admin', resourceId: workspaceId });
});

afterAll(() => kit.close());

const checkOnApp = (organizationMembershipId: string, permissionSlug = 'app:deploy') =>
  workos.authorization.check({ organizationMembershipId, permissionSlug, resourceId: appId });

describe('resources', () => {
  it('creates a three-level hierarchy with WorkOS-shaped objects', async () => {
    const app = await workos.authorization.getResource(appId);
    expect(app).toMatchObject({
      object: 'authorization_resource',
      externalId: 'a-1',
      name: 'App 1',
      resourceTypeSlug: 'app',
      organizationId: 'org_acme',
      parentResourceId: projectId,
    });
    expect(app.id).toMatch(/^authz_resource_/);
    expect((await workos.authorization.getResource(projectId)).parentResourceId).toBe(workspaceId);
    expect((await workos.authorization.getResource(workspaceId)).parentResourceId).toBeNull();
  });

  it('refuses a parent of the wrong type, a missing parent and a duplicate external id', async () => {
    const base = { organizationId: 'org_acme', resourceTypeSlug: 'app', externalId: 'a-x', name: 'x' };
    await expect(workos.authorization.createResource({ ...base, parentResourceId: workspaceId })).rejects.toBeInstanceOf(
      UnprocessableEntityException,
    );
    await expect(workos.authorization.createResource({ ...base, parentResourceId: 'authz_resource_missing' })).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(
      workos.authorization.createResource({ ...base, resourceTypeSlug: 'workspace', externalId: 'ws-1' }),
    ).rejects.toBeInstanceOf(ConflictException);
  });

  it('gets, updates and deletes by external id', async () => {
    const ref = { organizationId: 'org_acme', resourceTypeSlug: 'project', externalId: 'p-tmp' };
    await workos.authorization.createResource({ ...ref, name: 'Temp', parentResourceId: workspaceId });
    expect((await workos.authorization.getResourceByExternalId(ref)).name).toBe('Temp');
    const updated = await workos.authorization.updateResourceByExternalId({ ...ref, name: 'Renamed', description: 'now described' });
    expect(updated).toMatchObject({ name: 'Renamed', description: 'now described' });
    await workos.authorization.deleteResourceByExternalId(ref);
    await expect(workos.authorization.getResourceByExternalId(ref)).rejects.toBeInstanceOf(NotFoundException);
  });

  it('updates by id', async () => {
    const updated = await workos.authorization.updateResource({ resourceId: appId, description: 'deploys things' });
    expect(updated).toMatchObject({ name: 'App 1', description: 'deploys things' });
  });

  it('refuses to delete a resource with children unless cascading', async () => {
    const top = await workos.authorization.createResource({
      organizationId: 'org_acme',
      resourceTypeSlug: 'workspace',
      externalId: 'ws-doomed',
      name: 'Doomed',
    });
    const child = await workos.authorization.createResource({
      organizationId: 'org_acme',
      resourceTypeSlug: 'project',
      externalId: 'p-doomed',
      name: 'Doomed child',
      parentResourceId: top.id,
    });
    await expect(workos.authorization.deleteResource({ resourceId: top.id })).rejects.toMatchObject({
      name: 'ConflictException',
      status: 409,
    });
    await workos.authorization.deleteResource({ resourceId: top.id, cascadeDelete: true });
    await expect(workos.authorization.getResource(child.id)).rejects.toBeInstanceOf(NotFoundException);
  });
});

describe('check', () => {
  it('inherits a role assigned on the top of the hierarchy down to the bottom', async () => {
    expect(await checkOnApp('om_alice')).toEqual({ authorized: true });
    expect(await checkOnApp('om_alice', 'project:view')).toEqual({ authorized: false });
  });

  it('answers 404 for a permission slug the environment does not hold, 422 for an unknown resource type, and records both', async () => {
    await expect(checkOnApp('om_alice', 'billing:view')).rejects.toMatchObject({ status: 404, message: expect.stringMatching(/^Permission billing:view/) });
    await expect(
      workos.authorization.check({ organizationMembershipId: 'om_alice', permissionSlug: 'app:deploy', resourceExternalId: 'x', resourceTypeSlug: 'App' }),
    ).rejects.toMatchObject({ status: 422 });
    expect(kit.unknownSlugs()).toEqual(
      expect.arrayContaining([
        { kind: 'permission', slug: 'billing:view' },
        { kind: 'resource_type', slug: 'App' },
      ]),
    );
  });

  it('denies another membership of the same organization', async () => {
    expect(await checkOnApp('om_bob')).toEqual({ authorized: false });
  });

  it('grants what the organization-level role holds on any resource of the organization', async () => {
    expect(await checkOnApp('om_bob', 'org:view')).toEqual({ authorized: true });
  });

  it('denies across organizations, and looks external ids up in the membership organization', async () => {
    expect(await checkOnApp('om_carol', 'org:view')).toEqual({ authorized: false });
    await expect(
      workos.authorization.check({
        organizationMembershipId: 'om_carol',
        permissionSlug: 'org:view',
        resourceExternalId: 'a-1',
        resourceTypeSlug: 'app',
      }),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('denies an inactive or pending membership, and allows it again once reactivated', async () => {
    expect(await checkOnApp('om_erin', 'org:view')).toEqual({ authorized: false });
    const deactivated = await workos.userManagement.deactivateOrganizationMembership('om_alice');
    expect(deactivated.status).toBe('inactive');
    expect(await checkOnApp('om_alice')).toEqual({ authorized: false });
    await workos.userManagement.reactivateOrganizationMembership('om_alice');
    expect(await checkOnApp('om_alice')).toEqual({ authorized: true });
  });

  it('checks by external id + type', async () => {
    const result = await workos.authorization.check({
      organizationMembershipId: 'om_alice',
      permissionSlug: 'project:edit',
      resourceExternalId: 'p-1',
      resourceTypeSlug: 'project',
    });
    expect(result).toEqual({ authorized: true });
  });

  it('answers 404 for an unknown membership or resource', async () => {
    await expect(checkOnApp('om_nobody')).rejects.toBeInstanceOf(NotFoundException);
    await expect(
      workos.authorization.check({ organizationMembershipId: 'om_alice', permissionSlug: 'app:deploy', resourceId: 'authz_resource_nope' }),
    ).rejects.toMatchObject({ status: 404, code: 'entity_not_found' });
  });
});

describe('role assignments', () => {
  it('rejects a role scoped to another resource type with 422', async () => {
    await expect(
      workos.authorization.assignRole({ organizationMembershipId: 'om_bob', roleSlug: 'project-viewer', resourceId: workspaceId }),
    ).rejects.toBeInstanceOf(UnprocessableEntityException);
  });

  it('assigns by external id, lists, and removes (after which the check is false)', async () => {
    const assignment = await workos.authorization.assignRole({
      organizationMembershipId: 'om_bob',
      roleSlug: 'project-viewer',
      resourceExternalId: 'p-1',
      resourceTypeSlug: 'project',
    });
    expect(assignment).toMatchObject({
      object: 'role_assignment',
      organizationMembershipId: 'om_bob',
      role: { slug: 'project-viewer' },
      resource: { id: projectId, externalId: 'p-1', resourceTypeSlug: 'project' },
      source: { type: 'direct', groupRoleAssignmentId: null },
    });
    expect(await checkOnApp('om_bob', 'project:view')).toEqual({ authorized: true });
    const listed = await workos.authorization.listRoleAssignments({ organizationMembershipId: 'om_bob' });
    expect(listed.data.map((a) => a.id)).toEqual([assignment.id]);

    await workos.authorization.removeRole({ organizationMembershipId: 'om_bob', roleSlug: 'project-viewer', resourceId: projectId });
    expect(await checkOnApp('om_bob', 'project:view')).toEqual({ authorized: false });
    expect((await workos.authorization.listRoleAssignments({ organizationMembershipId: 'om_bob' })).data).toEqual([]);
  });
});

describe('discovery', () => {
  it('lists effective permissions, by id and by external id, including inherited ones', async () => {
    const byId = await workos.authorization.listEffectivePermissions({ organizationMembershipId: 'om_alice', resourceId: appId });
    expect(byId.data.map((p) => p.slug).sort()).toEqual(['app:deploy', 'org:view', 'project:edit', 'workspace:edit']);
    expect(byId.data[0]).toMatchObject({ object: 'permission' });
    const byExternalId = await workos.authorization.listEffectivePermissionsByExternalId({
      organizationMembershipId: 'om_bob',
      resourceTypeSlug: 'app',
      externalId: 'a-1',
    });
    expect(byExternalId.data.map((p) => p.slug)).toEqual(['org:view']);
  });

  it('lists resources a membership holds a permission on, under a parent', async () => {
    const all = await workos.authorization.listResourcesForMembership({ organizationMembershipId: 'om_alice', permissionSlug: 'project:edit', parentResourceId: workspaceId });
    expect(all.data.map((r) => r.externalId)).toEqual(['p-1']);
    const none = await workos.authorization.listResourcesForMembership({
      organizationMembershipId: 'om_bob',
      permissionSlug: 'project:edit',
      parentResourceExternalId: 'ws-1',
      parentResourceTypeSlug: 'workspace',
    });
    expect(none.data).toEqual([]);
  });

  it('lists memberships for a resource, direct and inherited', async () => {
    const direct = await workos.authorization.listMembershipsForResource({ resourceId: workspaceId, permissionSlug: 'workspace:edit' });
    expect(direct.data.map((m) => m.id)).toEqual(['om_alice']);
    const inheritedOnApp = await workos.authorization.listMembershipsForResource({
      resourceId: appId,
      permissionSlug: 'app:deploy',
      assignment: 'indirect',
    });
    expect(inheritedOnApp.data.map((m) => m.id)).toEqual(['om_alice']);
    const directOnApp = await workos.authorization.listMembershipsForResourceByExternalId({
      organizationId: 'org_acme',
      resourceTypeSlug: 'app',
      externalId: 'a-1',
      permissionSlug: 'app:deploy',
    });
    expect(directOnApp.data).toEqual([]);
  });
});

describe('roles and permissions', () => {
  it('serves environment and organization roles with their permissions', async () => {
    const environmentRoles = await workos.authorization.listEnvironmentRoles();
    expect(environmentRoles.data.map((r) => r.slug)).toEqual(['member', 'workspace-admin', 'project-viewer']);
    await workos.authorization.createPermission({ slug: 'app:view', name: 'View apps' });
    const orgRole = await workos.authorization.createOrganizationRole('org_acme', { slug: 'app-viewer', name: 'App viewer', resourceTypeSlug: 'app' });
    expect(orgRole).toMatchObject({ type: 'OrganizationRole', resourceTypeSlug: 'app', permissions: [] });
    await workos.authorization.addOrganizationRolePermission('org_acme', 'app-viewer', { permissionSlug: 'app:view' });
    await workos.authorization.assignRole({ organizationMembershipId: 'om_bob', roleSlug: 'app-viewer', resourceId: appId });
    expect(await checkOnApp('om_bob', 'app:view')).toEqual({ authorized: true });
    expect((await workos.authorization.listOrganizationRoles('org_acme')).data.map((r) => r.slug)).toContain('app-viewer');
    expect((await workos.authorization.getEnvironmentRole('workspace-admin')).permissions).toContain('app:deploy');
  });
});

describe('organization memberships and pagination', () => {
  it('lists active memberships by default, others on request', async () => {
    const active = await workos.userManagement.listOrganizationMemberships({ organizationId: 'org_acme' });
    expect(active.data.map((m) => m.id).sort()).toEqual(['om_alice', 'om_bob']);
    expect(active.data[0]).toMatchObject({ object: 'organization_membership', organizationName: 'Acme', role: { slug: 'member' } });
    const pending = await workos.userManagement.listOrganizationMemberships({ userId: 'user_erin', statuses: ['pending'] });
    expect(pending.data.map((m) => m.id)).toEqual(['om_erin']);
    expect((await workos.userManagement.getOrganizationMembership('om_carol')).organizationId).toBe('org_globex');
  });

  it('pages memberships with limit + after', async () => {
    const first = await workos.userManagement.listOrganizationMemberships({
      organizationId: 'org_acme',
      statuses: ['active', 'pending'],
      limit: 2,
      order: 'asc',
    });
    expect(first.data.map((m) => m.id)).toEqual(['om_alice', 'om_bob']);
    expect(first.listMetadata).toEqual({ before: null, after: 'om_bob' });
    const second = await workos.userManagement.listOrganizationMemberships({
      organizationId: 'org_acme',
      statuses: ['active', 'pending'],
      limit: 2,
      order: 'asc',
      after: 'om_bob',
    });
    expect(second.data.map((m) => m.id)).toEqual(['om_erin']);
    expect(second.listMetadata).toEqual({ before: 'om_erin', after: null });
  });

  it('pages resources newest first by default, and autoPagination collects every page', async () => {
    const first = await workos.authorization.listResources({ organizationId: 'org_acme', limit: 2 });
    expect(first.data.map((r) => r.externalId)).toEqual(['a-1', 'p-1']);
    const rest = await workos.authorization.listResources({ organizationId: 'org_acme', limit: 2, after: first.listMetadata.after ?? undefined });
    expect(rest.data.map((r) => r.externalId)).toEqual(['ws-1']);
    expect(rest.listMetadata.after).toBeNull();
    const everything = await workos.authorization.listResources({ organizationId: 'org_acme' });
    expect((await everything.autoPagination()).map((r) => r.externalId)).toEqual(['a-1', 'p-1', 'ws-1']);
  });
});

/** A raw call, for the operations the SDK has no method for (or validates away). */
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${kit.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${kit.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe('groups', () => {
  beforeAll(() => {
    kit.seed({
      roles: [{ slug: 'auditor', permissions: ['audit:read'] }],
      users: [{ id: 'user_dave', email: 'dave@acme.test' }],
      memberships: [{ id: 'om_dave', user: 'user_dave', organization: 'org_acme', role: 'member' }],
      groups: [{ id: 'group_ops', organization: 'org_acme', name: 'Ops', members: ['om_dave'] }],
    });
  });

  it("gives a group's resource role to its members in check and the listings, until removed", async () => {
    expect(await checkOnApp('om_dave')).toEqual({ authorized: false });
    const assigned = await api('POST', '/authorization/groups/group_ops/role_assignments', { role_slug: 'workspace-admin', resource_id: workspaceId });
    expect(assigned.status).toBe(201);
    expect(assigned.body).toMatchObject({ object: 'group_role_assignment', group_id: 'group_ops', resource: { id: workspaceId } });

    expect(await checkOnApp('om_dave')).toEqual({ authorized: true });
    const permissions = await workos.authorization.listEffectivePermissions({ organizationMembershipId: 'om_dave', resourceId: appId });
    expect(permissions.data.map((p) => p.slug).sort()).toEqual(['app:deploy', 'org:view', 'project:edit', 'workspace:edit']);
    const projects = await workos.authorization.listResourcesForMembership({
      organizationMembershipId: 'om_dave',
      permissionSlug: 'project:edit',
      parentResourceId: workspaceId,
    });
    expect(projects.data.map((r) => r.externalId)).toEqual(['p-1']);
    const direct = await workos.authorization.listMembershipsForResource({ resourceId: workspaceId, permissionSlug: 'workspace:edit', order: 'asc' });
    expect(direct.data.map((m) => m.id)).toEqual(['om_alice', 'om_dave']);

    const duplicate = await api('POST', '/authorization/groups/group_ops/role_assignments', { role_slug: 'workspace-admin', resource_id: workspaceId });
    expect(duplicate).toMatchObject({ status: 409, body: { code: 'duplicate_group_role_assignment' } });
    const removed = await api('DELETE', '/authorization/groups/group_ops/role_assignments', { role_slug: 'workspace-admin', resource_id: workspaceId });
    expect(removed.status).toBe(204);
    expect(await checkOnApp('om_dave')).toEqual({ authorized: false });
    expect((await api('DELETE', '/authorization/groups/group_ops/role_assignments', { role_slug: 'workspace-admin', resource_id: workspaceId })).status).toBe(404);
  });

  it('counts an organization-level group role on every resource; replaces, gets and deletes by id', async () => {
    const replaced = await api('PUT', '/authorization/groups/group_ops/role_assignments', { role_assignments: [{ role_slug: 'auditor' }] });
    expect(replaced.status).toBe(200);
    const [assignment] = replaced.body.data as Array<{ id: string }>;
    expect(await checkOnApp('om_dave', 'audit:read')).toEqual({ authorized: true });
    expect(await checkOnApp('om_bob', 'audit:read')).toEqual({ authorized: false });
    const holders = await workos.authorization.listMembershipsForResource({ resourceId: appId, permissionSlug: 'audit:read', assignment: 'indirect' });
    expect(holders.data.map((m) => m.id)).toEqual(['om_dave']);

    expect((await api('GET', `/authorization/groups/group_ops/role_assignments/${assignment?.id}`)).body).toMatchObject({ role: { slug: 'auditor' } });
    expect((await api('DELETE', `/authorization/groups/group_ops/role_assignments/${assignment?.id}`)).status).toBe(204);
    expect(await checkOnApp('om_dave', 'audit:read')).toEqual({ authorized: false });
    expect((await api('GET', '/authorization/groups/group_ops/role_assignments')).body.data).toEqual([]);
  });

  it('refuses a role of another resource type, and an unknown group', async () => {
    expect((await api('POST', '/authorization/groups/group_ops/role_assignments', { role_slug: 'project-viewer', resource_id: workspaceId })).status).toBe(422);
    expect((await api('POST', '/authorization/groups/group_ops/role_assignments', { role_slug: 'workspace-admin' })).status).toBe(422);
    expect((await api('GET', '/authorization/groups/group_nope/role_assignments')).status).toBe(404);
  });

  it('takes groups and their assignments from a seed', async () => {
    kit.seed({
      memberships: [{ id: 'om_dave_globex', user: 'user_dave', organization: 'org_globex', role: 'member' }],
      groups: [{ id: 'group_globex', organization: 'org_globex', name: 'Globex staff', members: ['om_dave_globex'] }],
      groupAssignments: [{ group: 'group_globex', role: 'auditor' }],
    });
    expect(
      await workos.authorization.check({ organizationMembershipId: 'om_dave_globex', permissionSlug: 'audit:read', resourceExternalId: 'ws-g', resourceTypeSlug: 'workspace' }).catch((error: unknown) => error),
    ).toBeInstanceOf(NotFoundException);
    const globexWorkspace = await workos.authorization.createResource({ organizationId: 'org_globex', resourceTypeSlug: 'workspace', externalId: 'ws-g', name: 'G' });
    expect(
      await workos.authorization.check({ organizationMembershipId: 'om_dave_globex', permissionSlug: 'audit:read', resourceId: globexWorkspace.id }),
    ).toEqual({ authorized: true });
    expect(() => kit.seed({ groups: [{ organization: 'org_globex', name: 'Mixed', members: ['om_alice'] }] })).toThrow(/seed\.groups\[0\]/);
  });
});

describe('discovery semantics and pagination', () => {
  let moreProjects: string[];

  beforeAll(async () => {
    moreProjects = [];
    for (const externalId of ['p-2', 'p-3', 'p-4']) {
      const project = await workos.authorization.createResource({
        organizationId: 'org_acme',
        resourceTypeSlug: 'project',
        externalId,
        name: externalId,
        parentResourceId: workspaceId,
      });
      moreProjects.push(project.id);
    }
  });

  it('lists only the children of the named parent, not deeper descendants', async () => {
    const underWorkspace = await workos.authorization.listResourcesForMembership({
      organizationMembershipId: 'om_alice',
      permissionSlug: 'app:deploy',
      parentResourceId: workspaceId,
    });
    expect(underWorkspace.data.map((r) => r.externalId).sort()).toEqual(['p-1', 'p-2', 'p-3', 'p-4']);
    const underProject = await workos.authorization.listResourcesForMembership({
      organizationMembershipId: 'om_alice',
      permissionSlug: 'app:deploy',
      parentResourceExternalId: 'p-1',
      parentResourceTypeSlug: 'project',
    });
    expect(underProject.data.map((r) => r.externalId)).toEqual(['a-1']);
    const missingParent = await api('GET', '/authorization/organization_memberships/om_alice/resources?permission_slug=app:deploy');
    expect(missingParent.status).toBe(422);
  });

  it('counts the organization-level role, and a role on one child only for that child', async () => {
    const viaOrgRole = await workos.authorization.listResourcesForMembership({
      organizationMembershipId: 'om_bob',
      permissionSlug: 'org:view',
      parentResourceId: workspaceId,
    });
    expect(viaOrgRole.data).toHaveLength(4);
    await workos.authorization.assignRole({ organizationMembershipId: 'om_bob', roleSlug: 'project-viewer', resourceExternalId: 'p-3', resourceTypeSlug: 'project' });
    const viewable = await workos.authorization.listResourcesForMembership({
      organizationMembershipId: 'om_bob',
      permissionSlug: 'project:view',
      parentResourceId: workspaceId,
    });
    expect(viewable.data.map((r) => r.externalId)).toEqual(['p-3']);
  });

  it('pages listResourcesForMembership with limit, after, before and order', async () => {
    const page = (options: { after?: string; before?: string; order?: 'asc' | 'desc' }) =>
      workos.authorization.listResourcesForMembership({
        organizationMembershipId: 'om_alice',
        permissionSlug: 'project:edit',
        parentResourceId: workspaceId,
        limit: 2,
        ...options,
      });
    const first = await page({ order: 'asc' });
    expect(first.data.map((r) => r.externalId)).toEqual(['p-1', 'p-2']);
    expect(first.listMetadata).toEqual({ before: null, after: moreProjects[0] });
    const second = await page({ order: 'asc', after: first.listMetadata.after ?? undefined });
    expect(second.data.map((r) => r.externalId)).toEqual(['p-3', 'p-4']);
    expect(second.listMetadata).toEqual({ before: moreProjects[1], after: null });
    const back = await page({ order: 'asc', before: second.listMetadata.before ?? undefined });
    expect(back.data.map((r) => r.externalId)).toEqual(['p-1', 'p-2']);
    expect((await page({})).data.map((r) => r.externalId)).toEqual(['p-4', 'p-3']);
  });

  it('pages listMembershipsForResource and listEffectivePermissions', async () => {
    const first = await workos.authorization.listMembershipsForResource({ resourceId: appId, permissionSlug: 'org:view', assignment: 'indirect', limit: 1, order: 'asc' });
    expect(first.data.map((m) => m.id)).toEqual(['om_alice']);
    const second = await workos.authorization.listMembershipsForResource({
      resourceId: appId,
      permissionSlug: 'org:view',
      assignment: 'indirect',
      limit: 1,
      order: 'asc',
      after: first.listMetadata.after ?? undefined,
    });
    expect(second.data.map((m) => m.id)).toEqual(['om_bob']);
    const permissions = await workos.authorization.listEffectivePermissions({ organizationMembershipId: 'om_alice', resourceId: appId, limit: 2, order: 'asc' });
    expect(permissions.data).toHaveLength(2);
    expect(permissions.listMetadata.after).not.toBeNull();
    expect((await workos.authorization.listMembershipsForResource({ resourceId: appId, permissionSlug: 'org:view', assignment: 'both' as never }).catch((e: unknown) => e))).toBeInstanceOf(UnprocessableEntityException);
  });

  it("serves effective permissions on the spec's path as on the SDK's", async () => {
    const specPath = await api('GET', `/authorization/organization_memberships/om_alice/resources/${appId}/permissions?order=asc`);
    const sdkPath = await api('GET', `/authorization/resources/${appId}/organization_memberships/om_alice/permissions?order=asc`);
    expect(specPath.status).toBe(200);
    expect(specPath.body).toEqual(sdkPath.body);
    expect((specPath.body.data as Array<{ slug: string }>).map((p) => p.slug).sort()).toEqual(['app:deploy', 'org:view', 'project:edit', 'workspace:edit']);
  });
});

describe('listResources filters', () => {
  const externalIds = async (query: string) => {
    const answer = await api('GET', `/authorization/resources?order=asc&${query}`);
    expect(answer.status).toBe(200);
    return (answer.body.data as Array<{ external_id: string }>).map((r) => r.external_id);
  };

  it('filters by type, external id and parent (by id or by type + external id)', async () => {
    expect((await workos.authorization.listResources({ organizationId: 'org_acme', resourceTypeSlug: 'app' })).data.map((r) => r.externalId)).toEqual(['a-1']);
    expect(await externalIds('organization_id=org_acme&resource_external_id=p-2')).toEqual(['p-2']);
    const byParentId = await workos.authorization.listResources({ parentResourceId: projectId });
    expect(byParentId.data.map((r) => r.externalId)).toEqual(['a-1']);
    const byParentExternalId = await workos.authorization.listResources({ parentResourceTypeSlug: 'workspace', parentExternalId: 'ws-1', order: 'asc', limit: 10 });
    expect(byParentExternalId.data.map((r) => r.externalId)).toEqual(['p-1', 'p-2', 'p-3', 'p-4']);
    expect(await externalIds('organization_id=org_globex&resource_external_id=p-2')).toEqual([]);
  });

  it('refuses half or conflicting parent filters', async () => {
    expect((await api('GET', '/authorization/resources?parent_external_id=ws-1')).status).toBe(422);
    expect((await api('GET', '/authorization/resources?parent_resource_type_slug=workspace')).status).toBe(422);
    expect((await api('GET', `/authorization/resources?parent_resource_id=${workspaceId}&parent_external_id=ws-1&parent_resource_type_slug=workspace`)).status).toBe(422);
  });
});

describe('timestamps (ISO strings from SDK 11, Dates from SDK 12)', () => {
  const first = <T>(list: { data: T[] }): T => {
    const [item] = list.data;
    if (item === undefined) throw new Error('empty list');
    return item;
  };

  it('every kind of object the kit serves has a createdAt and updatedAt the SDK can read', async () => {
    const objects: Array<[string, { createdAt: unknown; updatedAt: unknown }]> = [
      ['resource', await workos.authorization.getResource(appId)],
      ['listed resource', first(await workos.authorization.listResources({ organizationId: 'org_acme' }))],
      ['environment role', await workos.authorization.getEnvironmentRole('workspace-admin')],
      ['listed environment role', first(await workos.authorization.listEnvironmentRoles())],
      ['organization role', first(await workos.authorization.listOrganizationRoles('org_acme'))],
      ['permission', await workos.authorization.getPermission('app:deploy')],
      ['effective permission', first(await workos.authorization.listEffectivePermissions({ organizationMembershipId: 'om_alice', resourceId: appId }))],
      ['membership', await workos.userManagement.getOrganizationMembership('om_alice')],
      ['listed membership', first(await workos.userManagement.listOrganizationMemberships({ organizationId: 'org_acme' }))],
      [
        'membership for a resource',
        first(await workos.authorization.listMembershipsForResource({ resourceId: workspaceId, permissionSlug: 'workspace:edit' })),
      ],
      ['role assignment', first(await workos.authorization.listRoleAssignments({ organizationMembershipId: 'om_alice' }))],
    ];
    const now = Date.now();
    for (const [name, { createdAt, updatedAt }] of objects) {
      for (const value of [createdAt, updatedAt]) {
        expect(timestampType === 'Date' ? value instanceof Date : typeof value === 'string', `${name}: a ${timestampType}`).toBe(true);
      }
      expect(instant(createdAt), `${name}.createdAt`).toBeGreaterThanOrEqual(startedAt);
      expect(instant(updatedAt), `${name}.updatedAt`).toBeGreaterThanOrEqual(instant(createdAt));
      expect(instant(updatedAt), `${name}.updatedAt`).toBeLessThanOrEqual(now);
    }
  });

  it('an update moves updatedAt on and keeps createdAt', async () => {
    const before = await workos.authorization.getResource(projectId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = await workos.authorization.updateResource({ resourceId: projectId, description: 'touched' });
    expect(instant(after.createdAt)).toBe(instant(before.createdAt));
    expect(instant(after.updatedAt)).toBeGreaterThan(instant(before.updatedAt));
  });
});
