import type { TestKitSeed } from '../../testing/index.js';

/** The model most tests run on: workspace → project → app, two organizations. */
export const testSeed: TestKitSeed = {
  resourceTypes: [{ slug: 'workspace' }, { slug: 'project', parent: 'workspace' }, { slug: 'app', parent: 'project' }],
  roles: [
    { slug: 'member', permissions: ['workspace:view'] },
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
    { id: 'user_dan', email: 'dan@acme.test' },
  ],
  memberships: [
    { id: 'om_alice', user: 'user_alice', organization: 'org_acme', role: 'member', status: 'active' },
    { id: 'om_bob', user: 'user_bob', organization: 'org_acme', role: 'member', status: 'active' },
    { id: 'om_carol', user: 'user_carol', organization: 'org_globex', role: 'member', status: 'active' },
    { id: 'om_dan', user: 'user_dan', organization: 'org_acme', role: 'member', status: 'inactive' },
  ],
  resources: [
    { id: 'authz_resource_ws1', type: 'workspace', externalId: 'ws-1', organization: 'org_acme' },
    { type: 'project', externalId: 'p-1', organization: 'org_acme', parent: { type: 'workspace', externalId: 'ws-1' } },
    { type: 'app', externalId: 'a-1', organization: 'org_acme', parent: { type: 'project', externalId: 'p-1' } },
    { type: 'workspace', externalId: 'ws-2', organization: 'org_globex' },
    { type: 'project', externalId: 'p-2', organization: 'org_globex', parent: { type: 'workspace', externalId: 'ws-2' } },
  ],
  assignments: [
    { membership: 'om_alice', role: 'workspace-admin', resource: { type: 'workspace', externalId: 'ws-1' } },
    { membership: 'om_carol', role: 'workspace-admin', resource: { type: 'workspace', externalId: 'ws-2' } },
    // Dan's membership is inactive: this assignment must not count.
    { membership: 'om_dan', role: 'workspace-admin', resource: { type: 'workspace', externalId: 'ws-1' } },
  ],
};
