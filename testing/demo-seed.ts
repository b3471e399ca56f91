import type { TestKitSeed } from './seed.js';

/**
 * The model the examples run on. Acme: alice (member; workspace-admin on ws-1 through FGA only),
 * bob (member; project-viewer on p-2), dave (admin). Globex: carol (member). Types: workspace → project → app.
 */
export const demoSeed: TestKitSeed = {
  resourceTypes: [{ slug: 'workspace' }, { slug: 'project', parent: 'workspace' }, { slug: 'app', parent: 'project' }],
  roles: [
    { slug: 'member', name: 'Member', permissions: ['workspace:view'] },
    { slug: 'admin', name: 'Admin', permissions: ['workspace:view', 'project:edit', 'project:view', 'billing:view'] },
    {
      slug: 'workspace-admin',
      name: 'Workspace admin',
      resourceType: 'workspace',
      permissions: ['workspace:edit', 'project:edit', 'project:view', 'app:deploy'],
    },
    { slug: 'project-viewer', name: 'Project viewer', resourceType: 'project', permissions: ['project:view'] },
  ],
  organizations: [
    { id: 'org_acme', name: 'Acme' },
    { id: 'org_globex', name: 'Globex' },
  ],
  users: [
    { id: 'user_alice', email: 'alice@acme.test', firstName: 'Alice' },
    { id: 'user_bob', email: 'bob@acme.test', firstName: 'Bob' },
    { id: 'user_carol', email: 'carol@globex.test', firstName: 'Carol' },
    { id: 'user_dave', email: 'dave@acme.test', firstName: 'Dave' },
  ],
  memberships: [
    { id: 'om_alice', user: 'user_alice', organization: 'org_acme', role: 'member' },
    { id: 'om_bob', user: 'user_bob', organization: 'org_acme', role: 'member' },
    { id: 'om_carol', user: 'user_carol', organization: 'org_globex', role: 'member' },
    { id: 'om_dave', user: 'user_dave', organization: 'org_acme', role: 'admin' },
  ],
  resources: [
    { id: 'authz_resource_ws_1', type: 'workspace', externalId: 'ws-1', organization: 'org_acme', name: 'Workspace 1' },
    { id: 'authz_resource_p_1', type: 'project', externalId: 'p-1', organization: 'org_acme', name: 'Project 1', parent: { type: 'workspace', externalId: 'ws-1' } },
    { id: 'authz_resource_p_2', type: 'project', externalId: 'p-2', organization: 'org_acme', name: 'Project 2', parent: { type: 'workspace', externalId: 'ws-1' } },
    { id: 'authz_resource_a_1', type: 'app', externalId: 'a-1', organization: 'org_acme', name: 'App 1', parent: { type: 'project', externalId: 'p-1' } },
    { id: 'authz_resource_ws_2', type: 'workspace', externalId: 'ws-2', organization: 'org_globex', name: 'Workspace 2' },
    { id: 'authz_resource_p_3', type: 'project', externalId: 'p-3', organization: 'org_globex', name: 'Project 3', parent: { type: 'workspace', externalId: 'ws-2' } },
  ],
  assignments: [
    { membership: 'om_alice', role: 'workspace-admin', resource: { type: 'workspace', externalId: 'ws-1' } },
    { membership: 'om_bob', role: 'project-viewer', resource: { type: 'project', externalId: 'p-2' } },
  ],
};
