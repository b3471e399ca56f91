// `authz.explain()`: why a caller is (not) granted a permission, in a shape fit for logs. Asks WorkOS
// several questions, so it is for debugging a 403, never for the request path.
import type { WorkOS } from '@workos-inc/node';
import type { Principal } from './claims.js';
import type { ResolvedConfig } from './config.js';
import type { Decision, DenialReason } from './decision.js';
import type { ResourceRef } from './resource.js';
import { callWithinBudget, everyPage, UpstreamRefusal } from './upstream.js';
import { ServiceUnavailableError } from './errors.js';

/** A resource as WorkOS holds it. */
export interface ExplainedResource {
  readonly id: string;
  readonly externalId: string;
  readonly type: string;
}

export interface ExplainedAssignment {
  readonly role: string;
  readonly resource: ExplainedResource;
  /** On the resource itself, or on one of its ancestors (inherited). */
  readonly on: 'resource' | 'ancestor';
  /** Assigned to the membership, or to a group it belongs to. */
  readonly source: 'direct' | 'group';
}

export interface Explanation {
  readonly allowed: boolean;
  readonly reason?: DenialReason;
  /** The decision, read fresh (no remembered answer). */
  readonly decision: Decision;
  readonly permission: string;
  readonly resource?: ResourceRef;
  readonly userId: string;
  readonly organizationId?: string;
  /** What the token says: its permissions are org-wide and grant without asking WorkOS. */
  readonly token: { readonly grants: boolean; readonly role?: string; readonly permissions: readonly string[] };
  /** The organization membership checks run for (from the token's claim, looked up, or a machine's `machines.membership`), null when none was found. */
  readonly membership: { readonly id: string; readonly status: string; readonly role?: string; readonly from: 'token' | 'lookup' | 'mapping' } | null;
  /** The resource, then its ancestors up to the organization; empty when WorkOS does not know it. */
  readonly resourcePath: readonly ExplainedResource[];
  /** The membership's role assignments on the resource and its ancestors. */
  readonly roleAssignments: readonly ExplainedAssignment[];
  /** The permissions the membership holds on the resource (every route), or null when not known. */
  readonly effectivePermissions: readonly string[] | null;
  /** Plain-language findings, e.g. an inactive membership or a role without the permission. */
  readonly notes: readonly string[];
}

const CALL_BUDGET_MS = 10_000;
const MAX_ANCESTORS = 32;

interface Context {
  readonly client: WorkOS;
  readonly budget: number;
  readonly notes: string[];
}

export async function explainDecision(
  config: ResolvedConfig,
  authz: {
    check(principal: Principal, permission: string, resource?: ResourceRef | null, options?: { consistency?: 'fresh' }): Promise<Decision>;
    membershipOf(principal: Principal): Promise<string | null>;
  },
  principal: Principal,
  permission: string,
  resource: ResourceRef | undefined,
): Promise<Explanation> {
  const context: Context = { client: config.client, budget: Math.max(config.timeout, CALL_BUDGET_MS), notes: [] };
  const { notes } = context;
  const decision = await authz.check(principal, permission, resource, { consistency: 'fresh' });
  const grants = principal.permissions.includes(permission);
  const token = { grants, role: principal.role, permissions: [...principal.permissions] };
  if (grants) notes.push(`the token grants ${permission} org-wide (its role's permissions), so WorkOS is not asked on requests`);

  const membership =
    principal.kind === 'machine' ? await machineMembership(context, await authz.membershipOf(principal)) : await findMembership(context, principal, config.membershipLookup);
  const resourcePath = resource === undefined ? [] : await lineage(context, principal, resource);
  let roleAssignments: ExplainedAssignment[] = [];
  let effectivePermissions: string[] | null = null;
  if (membership !== null && resourcePath.length > 0) {
    roleAssignments = await assignmentsOn(context, membership.id, resourcePath);
    effectivePermissions = await effective(context, membership.id, resourcePath[0] as ExplainedResource);
    if (effectivePermissions !== null && !effectivePermissions.includes(permission)) {
      notes.push(
        roleAssignments.length === 0
          ? `no role is assigned to the membership on the resource or its ancestors, and its organization role${membership.role ? ` (${membership.role})` : ''} does not hold ${permission}`
          : `none of the roles assigned (${[...new Set(roleAssignments.map((a) => a.role))].join(', ')}) nor the organization role holds ${permission}`,
      );
    }
  }
  if (decision.reason !== undefined) notes.push(reasonNote(decision.reason, permission));

  const explanation: Explanation = {
    allowed: decision.allowed,
    decision,
    permission,
    userId: principal.userId,
    token,
    membership,
    resourcePath,
    roleAssignments,
    effectivePermissions,
    notes,
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    ...(resource === undefined ? {} : { resource }),
    ...(principal.organizationId === undefined ? {} : { organizationId: principal.organizationId }),
  };
  return explanation;
}

function reasonNote(reason: DenialReason, permission: string): string {
  switch (reason) {
    case 'unknown_permission':
      return `WorkOS does not know the permission ${permission}: create it, or fix the slug`;
    case 'unknown_resource':
      return 'WorkOS does not know the resource (or its type): register it (authz.resources.register) or fix the type slug, which is case-sensitive';
    case 'unknown_membership':
      return 'WorkOS does not know the organization membership the token names';
    case 'no_membership':
      return 'the user has no active membership in the token\'s organization';
    case 'machine_without_membership':
      return 'a machine caller whose token does not hold the permission, and machines.membership maps it to no membership';
    case 'no_organization':
      return 'the token names no organization';
    case 'no_resource':
      return 'the route names no resource and the token does not hold the permission';
    case 'invalid_resource':
      return 'the resource id is too long to exist';
    case 'not_granted':
      return `WorkOS answers that the membership does not hold ${permission} there`;
  }
}

/** One WorkOS call; a refusal or an outage becomes a note and undefined. */
async function ask<T>(context: Context, what: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await callWithinBudget(Date.now() + context.budget, call);
  } catch (error) {
    if (error instanceof UpstreamRefusal) context.notes.push(`${what}: WorkOS answered ${error.status} (${error.message})`);
    else if (error instanceof ServiceUnavailableError) context.notes.push(`${what}: WorkOS could not answer (${error.reason})`);
    else throw error;
    return undefined;
  }
}

/** A machine's membership is only ever the one machines.membership maps it to. */
async function machineMembership(context: Context, mapped: string | null): Promise<Explanation['membership']> {
  if (mapped === null) return null;
  const found = await ask(context, `membership ${mapped}`, () => context.client.userManagement.getOrganizationMembership(mapped));
  if (found === undefined) return null;
  noteStatus(context, found.id, found.status);
  return { id: found.id, status: found.status, role: found.role?.slug, from: 'mapping' };
}

async function findMembership(context: Context, principal: Principal, lookup: boolean): Promise<Explanation['membership']> {
  const claimed = principal.organizationMembershipId;
  if (claimed !== undefined) {
    const found = await ask(context, `membership ${claimed}`, () => context.client.userManagement.getOrganizationMembership(claimed));
    if (found === undefined) return null;
    noteStatus(context, found.id, found.status);
    return { id: found.id, status: found.status, role: found.role?.slug, from: 'token' };
  }
  const { organizationId } = principal;
  if (organizationId === undefined) return null;
  if (!lookup) {
    context.notes.push('the token carries no membership id and membershipLookup is off');
    return null;
  }
  const page = await ask(context, 'membership lookup', () =>
    context.client.userManagement.listOrganizationMemberships({ userId: principal.userId, organizationId, statuses: ['active', 'inactive', 'pending'], limit: 10 }),
  );
  const found = page?.data.find((m) => m.userId === principal.userId && m.organizationId === organizationId);
  if (found === undefined) {
    if (page !== undefined) context.notes.push(`the user has no membership in ${organizationId}`);
    return null;
  }
  noteStatus(context, found.id, found.status);
  return { id: found.id, status: found.status, role: found.role?.slug, from: 'lookup' };
}

function noteStatus(context: Context, id: string, status: string): void {
  if (status !== 'active') context.notes.push(`membership ${id} is ${status}: only active memberships are granted anything`);
}

interface StoredResource {
  id: string;
  externalId: string;
  resourceTypeSlug: string;
  parentResourceId?: string | null;
}

const explained = (resource: StoredResource): ExplainedResource => ({ id: resource.id, externalId: resource.externalId, type: resource.resourceTypeSlug });

/** The resource, then its ancestors. */
async function lineage(context: Context, principal: Principal, ref: ResourceRef): Promise<ExplainedResource[]> {
  const { client } = context;
  let current: StoredResource | undefined;
  if ('id' in ref) {
    current = await ask(context, `resource ${ref.id}`, () => client.authorization.getResource(ref.id));
  } else if (principal.organizationId === undefined) {
    context.notes.push('a resource named by external id is looked up in the token\'s organization, and the token names none');
  } else {
    const organizationId = principal.organizationId;
    current = await ask(context, `resource ${ref.type}/${ref.externalId}`, () =>
      client.authorization.getResourceByExternalId({ organizationId, resourceTypeSlug: ref.type, externalId: ref.externalId }),
    );
  }
  const path: ExplainedResource[] = [];
  while (current !== undefined && path.length < MAX_ANCESTORS) {
    path.push(explained(current));
    const parentId = current.parentResourceId;
    if (typeof parentId !== 'string' || parentId.length === 0) break;
    current = await ask(context, `resource ${parentId}`, () => client.authorization.getResource(parentId));
  }
  return path;
}

async function assignmentsOn(context: Context, membershipId: string, path: readonly ExplainedResource[]): Promise<ExplainedAssignment[]> {
  const onPath = new Map(path.map((resource, index) => [resource.id, index]));
  const { items } = await everyPage((page) =>
    ask(context, 'role assignments', () => context.client.authorization.listRoleAssignments({ organizationMembershipId: membershipId, ...page })),
  );
  const assignments: ExplainedAssignment[] = [];
  for (const assignment of items) {
    const index = onPath.get(assignment.resource.id);
    if (index === undefined) continue;
    assignments.push({
      role: assignment.role.slug,
      resource: { id: assignment.resource.id, externalId: assignment.resource.externalId, type: assignment.resource.resourceTypeSlug },
      on: index === 0 ? 'resource' : 'ancestor',
      source: assignment.source?.type === 'group' ? 'group' : 'direct',
    });
  }
  return assignments;
}

async function effective(context: Context, membershipId: string, resource: ExplainedResource): Promise<string[] | null> {
  const { items, complete } = await everyPage((page) =>
    ask(context, 'effective permissions', () =>
      context.client.authorization.listEffectivePermissions({ organizationMembershipId: membershipId, resourceId: resource.id, ...page }),
    ),
  );
  return complete ? items.map((permission) => permission.slug) : null;
}
