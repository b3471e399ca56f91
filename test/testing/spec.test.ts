import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKit, type TestKit, type TestKitSeed } from '../../testing/index.js';
import { OpenApiSpec } from './openapi-spec.js';

// Every response the kit gives, for every operation of the WorkOS spec subset, must validate against it.
const spec = new OpenApiSpec();

/** Kit paths outside the spec, validated against the spec operation documenting the same response. */
const ALIASES: Array<[RegExp, string]> = [
  // The SDK's path for listEffectivePermissions.
  [/^\/authorization\/resources\/([^/]+)\/organization_memberships\/([^/]+)\/permissions$/, '/authorization/organization_memberships/$2/resources/$1/permissions'],
  // The AuthKit domain's JWKS (machine tokens): the same JWKS document.
  [/^\/authkit\/oauth2\/jwks$/, '/sso/jwks/client_testkit'],
];

/** The spec requires certificate fields on JWKS keys; the kit's keys have no certificate, and no SDK reads them. */
const TOLERATED = [/^\/keys\/\d+ must have required property '(x5c|x5t#S256)'/];

const seed: TestKitSeed = {
  resourceTypes: [{ slug: 'workspace' }, { slug: 'project', parent: 'workspace' }],
  roles: [
    { slug: 'member', permissions: ['org:view'] },
    { slug: 'admin', permissions: ['org:view', 'org:manage'] },
    { slug: 'project-editor', resourceType: 'project', permissions: ['project:edit'] },
    { slug: 'workspace-viewer', resourceType: 'workspace', permissions: ['project:view'] },
  ],
  organizations: [{ id: 'org_acme', name: 'Acme' }],
  users: [
    { id: 'user_alice', email: 'alice@acme.test', firstName: 'Alice' },
    { id: 'user_bob', email: 'bob@acme.test' },
  ],
  memberships: [
    { id: 'om_alice', user: 'user_alice', organization: 'org_acme', role: 'member' },
    { id: 'om_bob', user: 'user_bob', organization: 'org_acme', role: 'member' },
  ],
  groups: [{ id: 'group_eng', organization: 'org_acme', name: 'Engineering', members: ['om_bob'] }],
};

let kit: TestKit;
const exercised = new Set<string>();

beforeAll(async () => {
  kit = await createTestKit({ seed });
});
afterAll(() => kit.close());

/** Calls the kit, validates the answer against the spec, and returns its body. */
async function call(method: string, path: string, body?: unknown, expectedStatus?: number): Promise<Record<string, unknown>> {
  const response = await fetch(`${kit.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${kit.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  const pathname = new URL(path, kit.url).pathname;
  const specPath = ALIASES.reduce((p, [pattern, target]) => p.replace(pattern, target), pathname);
  const operation = spec.match(method, specPath);
  if (!operation) throw new Error(`${method} ${pathname} is not in the spec`);
  const errors = spec.validate(operation, response.status, json).filter((error) => !TOLERATED.some((pattern) => pattern.test(error)));
  if (errors.length > 0) throw new Error(`${method} ${path} → ${response.status} ${text}\n${errors.join('\n')}`);
  if (expectedStatus !== undefined) {
    expect(response.status, `${method} ${path} → ${text}`).toBe(expectedStatus);
  } else {
    if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${text}`);
    exercised.add(`${operation.method} ${operation.path}`);
  }
  return (json ?? {}) as Record<string, unknown>;
}

const id = (body: Record<string, unknown>) => String(body.id);

describe('every response validates against the WorkOS spec subset', () => {
  it('JWKS and organization memberships', async () => {
    await call('GET', `/sso/jwks/${kit.clientId}`);
    expect(new URL(kit.machineJwksUrl).pathname).toBe('/authkit/oauth2/jwks');
    await call('GET', '/authkit/oauth2/jwks');
    const list = await call('GET', '/user_management/organization_memberships?organization_id=org_acme');
    expect((list.data as unknown[]).length).toBe(2);
    const membership = await call('GET', '/user_management/organization_memberships/om_alice');
    expect(membership.user).toMatchObject({ object: 'user', id: 'user_alice', email: 'alice@acme.test', first_name: 'Alice' });
  });

  it('permissions and environment roles', async () => {
    await call('POST', '/authorization/permissions', { slug: 'doc:read', name: 'Read docs' });
    await call('GET', '/authorization/permissions');
    await call('GET', '/authorization/permissions/doc:read');
    await call('PATCH', '/authorization/permissions/doc:read', { description: 'Reads documents' });
    await call('POST', '/authorization/roles', { slug: 'reader', name: 'Reader' });
    await call('GET', '/authorization/roles');
    await call('GET', '/authorization/roles/reader');
    await call('PATCH', '/authorization/roles/reader', { name: 'Document reader' });
    await call('PUT', '/authorization/roles/reader/permissions', { permissions: ['org:view'] });
    const role = await call('POST', '/authorization/roles/reader/permissions', { slug: 'doc:read' });
    expect(role.permissions).toEqual(['org:view', 'doc:read']);
  });

  it('organization roles, created without a slug; removing a permission answers the role', async () => {
    const role = await call('POST', '/authorization/organizations/org_acme/roles', { name: 'Billing admin' });
    const slug = String(role.slug);
    expect(slug).toMatch(/^org-billing-admin-/);
    await call('GET', '/authorization/organizations/org_acme/roles');
    await call('GET', `/authorization/organizations/org_acme/roles/${slug}`);
    await call('PATCH', `/authorization/organizations/org_acme/roles/${slug}`, { description: 'Pays' });
    await call('PUT', `/authorization/organizations/org_acme/roles/${slug}/permissions`, { permissions: ['org:view'] });
    await call('POST', `/authorization/organizations/org_acme/roles/${slug}/permissions`, { slug: 'doc:read' });
    const trimmed = await call('DELETE', `/authorization/organizations/org_acme/roles/${slug}/permissions/doc:read`);
    expect(trimmed).toMatchObject({ object: 'role', slug, permissions: ['org:view'] });
    await call('DELETE', `/authorization/organizations/org_acme/roles/${slug}`);
  });

  it('resources, assignments, check and discovery', async () => {
    const workspace = await call('POST', '/authorization/resources', {
      organization_id: 'org_acme',
      resource_type_slug: 'workspace',
      external_id: 'ws-1',
      name: 'Workspace',
    });
    const project = await call('POST', '/authorization/resources', {
      organization_id: 'org_acme',
      resource_type_slug: 'project',
      external_id: 'p-1',
      name: 'Project',
      parent_resource_id: id(workspace),
    });
    await call('GET', '/authorization/resources?organization_id=org_acme&resource_external_id=p-1');
    await call('GET', `/authorization/resources/${id(project)}`);
    await call('PATCH', `/authorization/resources/${id(project)}`, { description: 'described' });
    await call('GET', '/authorization/organizations/org_acme/resources/project/p-1');
    await call('PATCH', '/authorization/organizations/org_acme/resources/project/p-1', { name: 'Project 1' });

    const assignment = await call('POST', '/authorization/organization_memberships/om_alice/role_assignments', {
      role_slug: 'project-editor',
      resource_id: id(project),
    });
    await call('GET', '/authorization/organization_memberships/om_alice/role_assignments');
    await call('POST', '/authorization/organization_memberships/om_alice/check', { permission_slug: 'project:edit', resource_id: id(project) });
    await call('GET', `/authorization/organization_memberships/om_alice/resources?permission_slug=project:edit&parent_resource_id=${id(workspace)}`);
    await call('GET', `/authorization/organization_memberships/om_alice/resources/${id(project)}/permissions`);
    await call('GET', `/authorization/resources/${id(project)}/organization_memberships/om_alice/permissions`);
    await call('GET', '/authorization/organization_memberships/om_alice/resources/project/p-1/permissions');
    await call('GET', `/authorization/resources/${id(project)}/organization_memberships?permission_slug=project:edit`);
    await call('GET', '/authorization/organizations/org_acme/resources/project/p-1/organization_memberships?permission_slug=project:edit&assignment=indirect');
    await call('GET', `/authorization/resources/${id(project)}/role_assignments`);
    await call('GET', '/authorization/organizations/org_acme/resources/project/p-1/role_assignments');
    await call('DELETE', `/authorization/organization_memberships/om_alice/role_assignments/${id(assignment)}`);
    await call('POST', '/authorization/organization_memberships/om_alice/role_assignments', {
      role_slug: 'project-editor',
      resource_external_id: 'p-1',
      resource_type_slug: 'project',
    });
    await call('DELETE', '/authorization/organization_memberships/om_alice/role_assignments', { role_slug: 'project-editor', resource_id: id(project) });
  });

  it('group role assignments', async () => {
    const assignment = await call('POST', '/authorization/groups/group_eng/role_assignments', {
      role_slug: 'workspace-viewer',
      resource_external_id: 'ws-1',
      resource_type_slug: 'workspace',
    });
    expect(assignment).toMatchObject({ object: 'group_role_assignment', group_id: 'group_eng', role: { slug: 'workspace-viewer' } });
    await call('GET', '/authorization/groups/group_eng/role_assignments');
    await call('GET', `/authorization/groups/group_eng/role_assignments/${id(assignment)}`);
    const replaced = await call('PUT', '/authorization/groups/group_eng/role_assignments', {
      role_assignments: [{ role_slug: 'admin' }, { role_slug: 'project-editor', resource_external_id: 'p-1', resource_type_slug: 'project' }],
    });
    expect((replaced.data as unknown[]).length).toBe(2);
    await call('DELETE', '/authorization/groups/group_eng/role_assignments', { role_slug: 'admin' });
    const [remaining] = (await call('GET', '/authorization/groups/group_eng/role_assignments')).data as Array<Record<string, unknown>>;
    await call('DELETE', `/authorization/groups/group_eng/role_assignments/${id(remaining ?? {})}`);
  });

  it('deletions', async () => {
    await call('DELETE', '/authorization/organizations/org_acme/resources/project/p-1');
    await call('DELETE', '/authorization/resources/' + id((await call('GET', '/authorization/organizations/org_acme/resources/workspace/ws-1'))));
    await call('DELETE', '/authorization/permissions/doc:read');
  });

  it('error answers', async () => {
    await call('GET', '/authorization/resources/authz_resource_missing', undefined, 404);
    await call('GET', '/authorization/groups/group_missing/role_assignments', undefined, 404);
    await call('POST', '/authorization/organization_memberships/om_alice/check', { resource_id: 'authz_resource_missing' }, 422);
    await call('POST', '/authorization/permissions', { slug: 'org:view' }, 409);
    await call('GET', '/user_management/organization_memberships/om_missing', undefined, 404);
    await call('GET', '/user_management/organization_memberships', undefined, 400);
    await call('POST', '/authorization/roles', { slug: 'member', name: 'Member' }, 409);
    await call('POST', '/authorization/organizations/org_acme/roles', { slug: 'org-x', name: 'X' });
    await call('POST', '/authorization/organizations/org_acme/roles', { slug: 'org-x', name: 'X' }, 409);
    await call('POST', '/authorization/resources', { organization_id: 'org_acme', resource_type_slug: 'workspace', external_id: 'ws-e', name: 'E' });
    await call('POST', '/authorization/resources', { organization_id: 'org_acme', resource_type_slug: 'workspace', external_id: 'ws-e', name: 'E' }, 409);
  });

  it('exercised every operation of the spec subset', () => {
    const missing = spec
      .operations()
      .map((operation) => `${operation.method} ${operation.path}`)
      .filter((operation) => !exercised.has(operation));
    expect(missing).toEqual([]);
  });
});
