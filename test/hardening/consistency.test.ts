import express from 'express';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workosWebhook } from '../../adapters/express.js';
import { createAuthorizer, type Authorizer, type Principal, type ResourceRef } from '../../src/index.js';
import { createTestKit, type TestKit } from '../../testing/index.js';
import { testSeed } from '../support/model.js';

/**
 * Random sequences of changes and checks: after every change made through fga-guard (its write
 * helpers), made in WorkOS and then told to fga-guard (invalidate), or made in WorkOS and delivered
 * as a signed webhook, every check answers what WorkOS answers at that moment. Caches remember for
 * 10 minutes, so any stale answer would show.
 */
const STEPS = 1_200;

const SECRET = 'whsec_property';
let delivered = 0;
let kit: TestKit;
let authz: Authorizer;
let hooks: Server;
let hookUrl: string;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, cache: { ttl: 600_000, negativeTtl: 600_000, max: 10_000 } });
  const app = express();
  app.post('/webhooks/workos', express.raw({ type: 'application/json' }), workosWebhook(authz, { secret: SECRET }));
  hooks = await new Promise<Server>((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/webhooks/workos`;
});
afterAll(async () => {
  await new Promise((resolve) => hooks.close(resolve));
  await kit.close();
});

const workspaces: ResourceRef[] = [{ type: 'workspace', externalId: 'ws-1' }, { id: 'authz_resource_ws1' }];
const projects: ResourceRef[] = [
  { type: 'project', externalId: 'p-1' },
  { type: 'project', externalId: 'p-prop' },
];
const apps: ResourceRef[] = [{ type: 'app', externalId: 'a-1' }];
const members = [
  { user: 'user_bob', membership: 'om_bob', claim: false },
  { user: 'user_dan', membership: 'om_dan', claim: true },
];
const roleOn = { 'workspace-admin': workspaces, 'project-viewer': projects } as const;
const permissions = ['project:edit', 'project:view', 'app:deploy', 'workspace:edit'];

type Change =
  | { kind: 'role'; add: boolean; via: 'helper' | 'kit'; member: number; role: keyof typeof roleOn; target: number }
  | { kind: 'status'; member: number; active: boolean; via: 'webhook' | 'invalidate' }
  | { kind: 'project'; add: boolean; via: 'helper' | 'kit' };
type Step = Change | { kind: 'check'; member: number; permission: number; resource: number; many: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('check' as const), member: fc.nat(1), permission: fc.nat(3), resource: fc.nat(4), many: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('role' as const),
      add: fc.boolean(),
      via: fc.constantFrom('helper' as const, 'kit' as const),
      member: fc.nat(1),
      role: fc.constantFrom('workspace-admin' as const, 'project-viewer' as const),
      target: fc.nat(1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('status' as const), member: fc.nat(1), active: fc.boolean(), via: fc.constantFrom('webhook' as const, 'invalidate' as const) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('project' as const), add: fc.boolean(), via: fc.constantFrom('helper' as const, 'kit' as const) }) },
);

const resources = [...workspaces, ...projects, ...apps];
const target = (resource: ResourceRef) => ('id' in resource ? { resourceId: resource.id } : { resourceExternalId: resource.externalId, resourceTypeSlug: resource.type });

/** What WorkOS answers now, asked directly (the membership as a lookup would find it). */
async function truth(member: (typeof members)[number], permission: string, resource: ResourceRef): Promise<boolean> {
  const workos = kit.workos();
  if (!member.claim) {
    const found = await workos.userManagement.listOrganizationMemberships({ userId: member.user, organizationId: 'org_acme', statuses: ['active'] });
    if (found.data.length === 0) return false;
  }
  try {
    return (await workos.authorization.check({ organizationMembershipId: member.membership, permissionSlug: permission, ...target(resource) })).authorized;
  } catch {
    return false; // a resource WorkOS does not know: denied
  }
}

async function apply(change: Change): Promise<void> {
  const workos = kit.workos();
  if (change.kind === 'role') {
    const member = members[change.member]!;
    const resource = roleOn[change.role][change.target]!;
    const assignment = { membershipId: member.membership, role: change.role, resource };
    if (change.via === 'helper') {
      await (change.add ? authz.roles.assign(assignment) : authz.roles.remove(assignment)).catch(() => undefined);
    } else {
      const options = { organizationMembershipId: member.membership, roleSlug: change.role, ...target(resource) };
      await (change.add ? workos.authorization.assignRole(options) : workos.authorization.removeRole(options)).catch(() => undefined);
      await authz.invalidate({ membershipId: member.membership });
    }
  } else if (change.kind === 'status') {
    const member = members[change.member]!;
    kit.setMembershipStatus(member.membership, change.active ? 'active' : 'inactive');
    if (change.via === 'webhook') {
      // organization_membership.updated, signed and delivered; every delivery is acknowledged.
      const delivery = await kit.deliverWebhooks({ url: hookUrl, secret: SECRET });
      expect(delivery.statuses.every((status) => status === 200)).toBe(true);
      delivered += delivery.delivered;
    } else {
      // A membership that comes back is found by a lookup of its user: that is the user's scope.
      await authz.invalidate({ membershipId: member.membership, userId: member.user });
    }
  } else {
    const project = { type: 'project', externalId: 'p-prop' };
    if (change.add) {
      const input = { ...project, name: 'Prop', organizationId: 'org_acme', parent: { type: 'workspace', externalId: 'ws-1' } };
      if (change.via === 'helper') await authz.resources.register(input);
      else {
        await workos.authorization
          .createResource({ organizationId: 'org_acme', resourceTypeSlug: 'project', externalId: 'p-prop', name: 'Prop', parentResourceExternalId: 'ws-1', parentResourceTypeSlug: 'workspace' })
          .catch(() => undefined);
        await authz.invalidate({ resource: project });
      }
    } else if (change.via === 'helper') {
      await authz.resources.remove(project, { organizationId: 'org_acme', cascade: true });
    } else {
      await workos.authorization.deleteResourceByExternalId({ organizationId: 'org_acme', resourceTypeSlug: 'project', externalId: 'p-prop', cascadeDelete: true }).catch(() => undefined);
      await authz.invalidate({ organizationId: 'org_acme' });
    }
  }
}

describe('answers stay current', () => {
  it(`${STEPS} random changes and checks: every check answers what WorkOS answers at that moment`, async () => {
    const principals = new Map<number, Principal>();
    const principalOf = async (index: number) => {
      const member = members[index]!;
      let principal = principals.get(index);
      if (!principal) {
        const token = kit.mintToken({ user: member.user, organization: 'org_acme', ...(member.claim ? { membership: member.membership } : {}), expiresIn: 3600 });
        principal = await authz.verify(token);
        principals.set(index, principal);
      }
      return principal;
    };
    let checks = 0;
    const stale: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: STEPS, maxLength: STEPS }), async (steps) => {
        for (const current of steps) {
          if (current.kind !== 'check') {
            await apply(current);
            continue;
          }
          const member = members[current.member]!;
          const permission = permissions[current.permission]!;
          const resource = resources[current.resource]!;
          const principal = await principalOf(current.member);
          const answer = current.many
            ? (await authz.checkMany(principal, [{ permission, resource }, { permission: 'project:view', resource }]))[0]!.allowed
            : await authz.can(principal, permission, resource);
          checks += 1;
          const expected = await truth(member, permission, resource);
          if (answer !== expected) stale.push(`${member.membership} ${permission} ${JSON.stringify(resource)}: ${answer}, WorkOS ${expected}`);
        }
        return true;
      }),
      { numRuns: 1, seed: 20261204 },
    );
    expect(stale).toEqual([]);
    expect(checks).toBeGreaterThan(STEPS / 3);
    expect(delivered).toBeGreaterThan(10);
    // The caches were used: not every check asked WorkOS.
    expect(authz.cacheStats().decisions).toBeGreaterThan(0);
  }, 120_000);
});
