import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { EndpointName } from './endpoints.js';
import type { EventLog } from './events.js';
import type { CallCounters, Fault, FaultRegistry } from './faults.js';
import type { SigningKeys } from './keys.js';
import type { UnknownSlugLog } from './unknown-slugs.js';
import { serializeSession, type SessionRegistry } from './sessions.js';
import {
  MEMBERSHIP_STATUSES,
  type FgaModel,
  type GroupAssignmentRecord,
  type MembershipResourceRef,
  type MembershipStatus,
  type ResourceRef,
} from './model.js';
import {
  ApiError,
  invalidParameter,
  paginate,
  serializeAssignment,
  serializeAuthorizationMembership,
  serializeGroupAssignment,
  serializeMembership,
  serializePermission,
  serializeResource,
  serializeRole,
} from './wire.js';

/** Reads named fields from a JSON body or a query string, answering 422 for missing or mistyped ones. */
class Fields {
  constructor(private readonly get: (name: string) => unknown) {}

  static ofBody(body: unknown): Fields {
    return new Fields((name) => (typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined));
  }

  static ofQuery(query: URLSearchParams): Fields {
    return new Fields((name) => query.get(name) ?? undefined);
  }

  optional(name: string): string | undefined {
    const value = this.get(name);
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalidParameter(name, 'invalid', `${name} must be a string.`);
    return value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (!value) throw invalidParameter(name, 'required', `${name} is required.`);
    return value;
  }

  /** Explicit null is kept (it clears the field); undefined means "leave as is". */
  nullable(name: string): string | null | undefined {
    return this.get(name) === null ? null : this.optional(name);
  }

  /** An array of objects, each read with its own Fields. */
  objects(name: string): Fields[] {
    const value = this.get(name);
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'object' && item !== null)) {
      throw invalidParameter(name, 'invalid', `${name} must be an array of objects.`);
    }
    return value.map((item) => Fields.ofBody(item));
  }

  strings(name: string): string[] {
    const value = this.get(name);
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
      throw invalidParameter(name, 'invalid', `${name} must be an array of strings.`);
    }
    return value;
  }

  /** `<prefix>resource_id`, or `<prefix>resource_external_id` + `<prefix>resource_type_slug`. */
  resourceRef(prefix: '' | 'parent_'): MembershipResourceRef | undefined {
    const id = this.optional(`${prefix}resource_id`);
    if (id) return { id };
    const externalId = this.optional(`${prefix}resource_external_id`);
    if (!externalId) return undefined;
    return { externalId, typeSlug: this.required(`${prefix}resource_type_slug`) };
  }

  requiredResourceRef(prefix: '' | 'parent_'): MembershipResourceRef {
    const ref = this.resourceRef(prefix);
    if (!ref) {
      throw invalidParameter(
        `${prefix}resource_id`,
        'required',
        `${prefix}resource_id or ${prefix}resource_external_id with ${prefix}resource_type_slug is required.`,
      );
    }
    return ref;
  }
}

interface RouteContext {
  model: FgaModel;
  /** Every mutation records the event WorkOS would send for it (role assignments and resources have none). */
  events: EventLog;
  sessions: SessionRegistry;
  keys: SigningKeys;
  /** The AuthKit domain's keys, which sign machine tokens. */
  machineKeys: SigningKeys;
  clientId: string;
  /** Checks naming a permission or resource type the model does not hold. */
  unknownSlugs: UnknownSlugLog;
  param(name: string): string;
  query: URLSearchParams;
  body: Fields;
}

interface Reply {
  status: number;
  body?: unknown;
}

interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Served without the API key. */
  public?: boolean;
  handle(context: RouteContext): Reply;
}

/** The fields every update endpoint accepts. */
const editableFields = (c: RouteContext) => ({ name: c.body.optional('name'), description: c.body.nullable('description') });

const ok = (body: unknown): Reply => ({ status: 200, body });
const created = (body: unknown): Reply => ({ status: 201, body });
const noContent = (): Reply => ({ status: 204 });

function list<T extends { id: string }>(context: RouteContext, items: readonly T[], serialize: (item: T) => unknown): Reply {
  return ok(paginate(items, Object.fromEntries(context.query), context.model.sequenceOf, serialize));
}

const byExternalId = (context: RouteContext): ResourceRef => ({
  organizationId: context.param('organizationId'),
  typeSlug: context.param('resourceTypeSlug'),
  externalId: context.param('externalId'),
});

function serializeMembershipWithOrganization(model: FgaModel) {
  return (membership: Parameters<typeof serializeMembership>[0]) =>
    serializeMembership(membership, model.getOrganization(membership.organizationId).name, model.getUser(membership.userId));
}

function parseStatuses(value: string | null): MembershipStatus[] {
  if (!value) return ['active'];
  return value.split(',').map((status) => {
    const known = MEMBERSHIP_STATUSES.find((candidate) => candidate === status.trim());
    if (!known) throw invalidParameter('statuses', 'invalid', `Unknown membership status ${status}.`);
    return known;
  });
}

function assignmentFilter(value: string | null): 'direct' | 'indirect' {
  if (value === null || value === 'direct' || value === 'indirect') return value ?? 'direct';
  throw invalidParameter('assignment', 'invalid', 'assignment must be direct or indirect.');
}

/** An organization role's slug made from its name, as WorkOS does when the slug is omitted: `org-<name>-<suffix>`. */
function organizationRoleSlug(name: string): string {
  const base = name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return `org-${base ? `${base}-` : ''}${randomUUID().slice(0, 8)}`;
}

function roleUpdated(context: RouteContext, role: ReturnType<FgaModel['getRole']>): Reply {
  context.events.role('updated', role);
  return ok(serializeRole(role));
}

function membershipStatusSet(context: RouteContext, status: MembershipStatus): Reply {
  const membership = context.model.setMembershipStatus(context.param('membershipId'), status);
  context.events.membership('updated', membership);
  return ok(serializeMembershipWithOrganization(context.model)(membership));
}

/** Role endpoints, shared by environment roles (scope null) and organization roles (scope = the path's organization). */
function roleHandlers(scopeOf: (context: RouteContext) => string | null) {
  return {
    create: (c: RouteContext) => {
      const scope = scopeOf(c);
      // The spec requires both for environment roles; an organization role needs only a name.
      const name = scope === null ? c.body.optional('name') : c.body.required('name');
      const slug = scope === null ? c.body.required('slug') : (c.body.optional('slug') ?? organizationRoleSlug(name ?? ''));
      const role = c.model.createRole({
        slug,
        name,
        description: c.body.nullable('description'),
        resourceTypeSlug: c.body.optional('resource_type_slug'),
        organizationId: scope,
      });
      c.events.role('created', role);
      return created(serializeRole(role));
    },
    list: (c: RouteContext) => {
      const scope = scopeOf(c);
      const roles = scope === null ? c.model.listEnvironmentRoles() : c.model.listOrganizationRoles(scope);
      return ok({ object: 'list', data: roles.map(serializeRole) });
    },
    get: (c: RouteContext) => ok(serializeRole(c.model.getRole(scopeOf(c), c.param('slug')))),
    update: (c: RouteContext) => roleUpdated(c, c.model.updateRole(scopeOf(c), c.param('slug'), editableFields(c))),
    setPermissions: (c: RouteContext) => roleUpdated(c, c.model.setRolePermissions(scopeOf(c), c.param('slug'), c.body.strings('permissions'))),
    addPermission: (c: RouteContext) => roleUpdated(c, c.model.addRolePermission(scopeOf(c), c.param('slug'), c.body.required('slug'))),
  };
}

const environmentRole = roleHandlers(() => null);
const organizationRole = roleHandlers((c) => c.param('organizationId'));

/** Every endpoint the kit serves, named after the SDK method that calls it. */
const routes = {
  jwks: {
    method: 'GET',
    path: '/sso/jwks/:clientId',
    public: true,
    handle: (c) => {
      if (c.param('clientId') !== c.clientId) throw new ApiError(404, 'entity_not_found', `Client ${c.param('clientId')} not found.`);
      return ok(c.keys.jwks());
    },
  },
  // The AuthKit domain's JWKS (`<authkit domain>/oauth2/jwks`), the kit's AuthKit domain being `<url>/authkit`.
  machineJwks: {
    method: 'GET',
    path: '/authkit/oauth2/jwks',
    public: true,
    handle: (c) => ok(c.machineKeys.jwks()),
  },

  // ---- organization memberships (user management) ----
  listOrganizationMemberships: {
    method: 'GET',
    path: '/user_management/organization_memberships',
    handle: (c) => {
      const query = Fields.ofQuery(c.query);
      const userId = query.optional('user_id');
      const organizationId = query.optional('organization_id');
      if (!userId && !organizationId) throw new ApiError(400, 'missing_user_id_or_organization_id', 'user_id or organization_id is required.');
      const memberships = c.model.listMemberships({ userId, organizationId, statuses: parseStatuses(c.query.get('statuses')) });
      return list(c, memberships, serializeMembershipWithOrganization(c.model));
    },
  },
  getOrganizationMembership: {
    method: 'GET',
    path: '/user_management/organization_memberships/:membershipId',
    handle: (c) => ok(serializeMembershipWithOrganization(c.model)(c.model.getMembership(c.param('membershipId')))),
  },
  deactivateOrganizationMembership: {
    method: 'PUT',
    path: '/user_management/organization_memberships/:membershipId/deactivate',
    handle: (c) => membershipStatusSet(c, 'inactive'),
  },
  reactivateOrganizationMembership: {
    method: 'PUT',
    path: '/user_management/organization_memberships/:membershipId/reactivate',
    handle: (c) => membershipStatusSet(c, 'active'),
  },

  // ---- sessions and events ----
  revokeSession: {
    method: 'POST',
    path: '/user_management/sessions/revoke',
    handle: (c) => {
      const sessionId = c.body.required('session_id');
      if (!c.sessions.find(sessionId)) throw new ApiError(404, 'entity_not_found', `Session ${sessionId} not found.`);
      const session = c.sessions.revoke(sessionId);
      c.events.sessionRevoked(session);
      return ok(serializeSession(session));
    },
  },
  listEvents: {
    method: 'GET',
    path: '/events',
    handle: (c) => ok(c.events.list(c.query)),
  },

  // ---- roles ----
  createEnvironmentRole: { method: 'POST', path: '/authorization/roles', handle: environmentRole.create },
  listEnvironmentRoles: { method: 'GET', path: '/authorization/roles', handle: environmentRole.list },
  getEnvironmentRole: { method: 'GET', path: '/authorization/roles/:slug', handle: environmentRole.get },
  updateEnvironmentRole: { method: 'PATCH', path: '/authorization/roles/:slug', handle: environmentRole.update },
  setEnvironmentRolePermissions: { method: 'PUT', path: '/authorization/roles/:slug/permissions', handle: environmentRole.setPermissions },
  addEnvironmentRolePermission: { method: 'POST', path: '/authorization/roles/:slug/permissions', handle: environmentRole.addPermission },
  createOrganizationRole: { method: 'POST', path: '/authorization/organizations/:organizationId/roles', handle: organizationRole.create },
  listOrganizationRoles: { method: 'GET', path: '/authorization/organizations/:organizationId/roles', handle: organizationRole.list },
  getOrganizationRole: { method: 'GET', path: '/authorization/organizations/:organizationId/roles/:slug', handle: organizationRole.get },
  updateOrganizationRole: { method: 'PATCH', path: '/authorization/organizations/:organizationId/roles/:slug', handle: organizationRole.update },
  setOrganizationRolePermissions: {
    method: 'PUT',
    path: '/authorization/organizations/:organizationId/roles/:slug/permissions',
    handle: organizationRole.setPermissions,
  },
  addOrganizationRolePermission: {
    method: 'POST',
    path: '/authorization/organizations/:organizationId/roles/:slug/permissions',
    handle: organizationRole.addPermission,
  },
  deleteOrganizationRole: {
    method: 'DELETE',
    path: '/authorization/organizations/:organizationId/roles/:slug',
    handle: (c) => {
      c.events.role('deleted', c.model.deleteRole(c.param('organizationId'), c.param('slug')));
      return noContent();
    },
  },
  removeOrganizationRolePermission: {
    method: 'DELETE',
    path: '/authorization/organizations/:organizationId/roles/:slug/permissions/:permissionSlug',
    handle: (c) => roleUpdated(c, c.model.removeRolePermission(c.param('organizationId'), c.param('slug'), c.param('permissionSlug'))),
  },

  // ---- permissions ----
  createPermission: {
    method: 'POST',
    path: '/authorization/permissions',
    handle: (c) => {
      const permission = c.model.createPermission({
        slug: c.body.required('slug'),
        name: c.body.optional('name'),
        description: c.body.nullable('description'),
        resourceTypeSlug: c.body.optional('resource_type_slug'),
      });
      c.events.permission('created', permission);
      return created(serializePermission(permission));
    },
  },
  listPermissions: {
    method: 'GET',
    path: '/authorization/permissions',
    handle: (c) => list(c, c.model.listPermissions(), serializePermission),
  },
  getPermission: {
    method: 'GET',
    path: '/authorization/permissions/:slug',
    handle: (c) => ok(serializePermission(c.model.getPermission(c.param('slug')))),
  },
  updatePermission: {
    method: 'PATCH',
    path: '/authorization/permissions/:slug',
    handle: (c) => {
      const permission = c.model.updatePermission(c.param('slug'), editableFields(c));
      c.events.permission('updated', permission);
      return ok(serializePermission(permission));
    },
  },
  deletePermission: {
    method: 'DELETE',
    path: '/authorization/permissions/:slug',
    handle: (c) => {
      c.events.permission('deleted', c.model.deletePermission(c.param('slug')));
      return noContent();
    },
  },

  // ---- resources ----
  createResource: {
    method: 'POST',
    path: '/authorization/resources',
    handle: (c) => {
      const parent = c.body.resourceRef('parent_');
      return created(
        serializeResource(
          c.model.createResource({
            organizationId: c.body.required('organization_id'),
            resourceTypeSlug: c.body.required('resource_type_slug'),
            externalId: c.body.required('external_id'),
            name: c.body.optional('name'),
            description: c.body.nullable('description'),
            parent,
          }),
        ),
      );
    },
  },
  listResources: {
    method: 'GET',
    path: '/authorization/resources',
    handle: (c) => {
      const query = Fields.ofQuery(c.query);
      const parentResourceId = query.optional('parent_resource_id');
      const parentResourceTypeSlug = query.optional('parent_resource_type_slug');
      const parentExternalId = query.optional('parent_external_id');
      if (parentResourceId && (parentResourceTypeSlug || parentExternalId)) {
        throw invalidParameter('parent_resource_id', 'invalid', 'parent_resource_id excludes parent_resource_type_slug and parent_external_id.');
      }
      if (parentResourceTypeSlug && !parentExternalId) query.required('parent_external_id');
      if (parentExternalId && !parentResourceTypeSlug) query.required('parent_resource_type_slug');
      const resources = c.model.listResources({
        organizationId: query.optional('organization_id'),
        resourceTypeSlug: query.optional('resource_type_slug'),
        externalId: query.optional('resource_external_id'),
        parentResourceId,
        parentResourceTypeSlug,
        parentExternalId,
      });
      return list(c, resources, serializeResource);
    },
  },
  getResource: {
    method: 'GET',
    path: '/authorization/resources/:resourceId',
    handle: (c) => ok(serializeResource(c.model.getResource({ id: c.param('resourceId') }))),
  },
  updateResource: {
    method: 'PATCH',
    path: '/authorization/resources/:resourceId',
    handle: (c) => ok(serializeResource(c.model.updateResource({ id: c.param('resourceId') }, editableFields(c)))),
  },
  deleteResource: {
    method: 'DELETE',
    path: '/authorization/resources/:resourceId',
    handle: (c) => {
      c.model.deleteResource({ id: c.param('resourceId') }, c.query.get('cascade_delete') === 'true');
      return noContent();
    },
  },
  getResourceByExternalId: {
    method: 'GET',
    path: '/authorization/organizations/:organizationId/resources/:resourceTypeSlug/:externalId',
    handle: (c) => ok(serializeResource(c.model.getResource(byExternalId(c)))),
  },
  updateResourceByExternalId: {
    method: 'PATCH',
    path: '/authorization/organizations/:organizationId/resources/:resourceTypeSlug/:externalId',
    handle: (c) => ok(serializeResource(c.model.updateResource(byExternalId(c), editableFields(c)))),
  },
  deleteResourceByExternalId: {
    method: 'DELETE',
    path: '/authorization/organizations/:organizationId/resources/:resourceTypeSlug/:externalId',
    handle: (c) => {
      c.model.deleteResource(byExternalId(c), c.query.get('cascade_delete') === 'true');
      return noContent();
    },
  },

  // ---- checks and role assignments ----
  check: {
    method: 'POST',
    path: '/authorization/organization_memberships/:membershipId/check',
    handle: (c) => {
      const permission = c.body.required('permission_slug');
      const ref = c.body.requiredResourceRef('');
      if (!c.model.hasPermission(permission)) c.unknownSlugs.record('permission', permission);
      if (!('id' in ref) && !c.model.hasResourceType(ref.typeSlug)) c.unknownSlugs.record('resource_type', ref.typeSlug);
      return ok({ authorized: c.model.check(c.param('membershipId'), permission, ref) });
    },
  },
  listRoleAssignments: {
    method: 'GET',
    path: '/authorization/organization_memberships/:membershipId/role_assignments',
    handle: (c) => {
      const query = Fields.ofQuery(c.query);
      const assignments = c.model.listAssignments({
        membershipId: c.param('membershipId'),
        resourceId: query.optional('resource_id'),
        resourceExternalId: query.optional('resource_external_id'),
        resourceTypeSlug: query.optional('resource_type_slug'),
      });
      return listAssignments(c, assignments);
    },
  },
  assignRole: {
    method: 'POST',
    path: '/authorization/organization_memberships/:membershipId/role_assignments',
    handle: (c) => {
      const assignment = c.model.assignRole(c.param('membershipId'), c.body.required('role_slug'), c.body.requiredResourceRef(''));
      return created(serializeAssignment(assignment, c.model.getResource({ id: assignment.resourceId })));
    },
  },
  removeRole: {
    method: 'DELETE',
    path: '/authorization/organization_memberships/:membershipId/role_assignments',
    handle: (c) => {
      c.model.removeRole(c.param('membershipId'), c.body.required('role_slug'), c.body.requiredResourceRef(''));
      return noContent();
    },
  },
  removeRoleAssignment: {
    method: 'DELETE',
    path: '/authorization/organization_memberships/:membershipId/role_assignments/:assignmentId',
    handle: (c) => {
      c.model.removeAssignment(c.param('membershipId'), c.param('assignmentId'));
      return noContent();
    },
  },
  listRoleAssignmentsForResource: {
    method: 'GET',
    path: '/authorization/resources/:resourceId/role_assignments',
    handle: (c) => {
      const resource = c.model.getResource({ id: c.param('resourceId') });
      return listAssignments(c, c.model.listAssignments({ resourceId: resource.id, roleSlug: c.query.get('role_slug') ?? undefined }));
    },
  },
  listResourceRoleAssignments: {
    method: 'GET',
    path: '/authorization/organizations/:organizationId/resources/:resourceTypeSlug/:externalId/role_assignments',
    handle: (c) => {
      const resource = c.model.getResource(byExternalId(c));
      return listAssignments(c, c.model.listAssignments({ resourceId: resource.id, roleSlug: c.query.get('role_slug') ?? undefined }));
    },
  },

  // ---- discovery ----
  listResourcesForMembership: {
    method: 'GET',
    path: '/authorization/organization_memberships/:membershipId/resources',
    handle: (c) => {
      const query = Fields.ofQuery(c.query);
      const resources = c.model.resourcesForMembership(c.param('membershipId'), query.required('permission_slug'), query.requiredResourceRef('parent_'));
      return list(c, resources, serializeResource);
    },
  },
  listEffectivePermissions: {
    method: 'GET',
    path: '/authorization/resources/:resourceId/organization_memberships/:membershipId/permissions',
    handle: (c) => list(c, c.model.effectivePermissions(c.param('membershipId'), { id: c.param('resourceId') }), serializePermission),
  },
  /** The spec's path for the same listing (the SDK calls the one above). */
  listEffectivePermissionsForMembership: {
    method: 'GET',
    path: '/authorization/organization_memberships/:membershipId/resources/:resourceId/permissions',
    handle: (c) => list(c, c.model.effectivePermissions(c.param('membershipId'), { id: c.param('resourceId') }), serializePermission),
  },
  listEffectivePermissionsByExternalId: {
    method: 'GET',
    path: '/authorization/organization_memberships/:membershipId/resources/:resourceTypeSlug/:externalId/permissions',
    handle: (c) =>
      list(
        c,
        c.model.effectivePermissions(c.param('membershipId'), { typeSlug: c.param('resourceTypeSlug'), externalId: c.param('externalId') }),
        serializePermission,
      ),
  },
  listMembershipsForResource: {
    method: 'GET',
    path: '/authorization/resources/:resourceId/organization_memberships',
    handle: (c) => listMembershipsForResource(c, { id: c.param('resourceId') }),
  },
  listMembershipsForResourceByExternalId: {
    method: 'GET',
    path: '/authorization/organizations/:organizationId/resources/:resourceTypeSlug/:externalId/organization_memberships',
    handle: (c) => listMembershipsForResource(c, byExternalId(c)),
  },

  // ---- group role assignments (a group's roles flow to its members) ----
  listGroupRoleAssignments: {
    method: 'GET',
    path: '/authorization/groups/:groupId/role_assignments',
    handle: (c) => list(c, c.model.listGroupAssignments(c.param('groupId')), groupAssignmentSerializer(c)),
  },
  assignGroupRole: {
    method: 'POST',
    path: '/authorization/groups/:groupId/role_assignments',
    handle: (c) => created(groupAssignmentSerializer(c)(c.model.assignGroupRole(c.param('groupId'), c.body.required('role_slug'), c.body.resourceRef('')))),
  },
  replaceGroupRoleAssignments: {
    method: 'PUT',
    path: '/authorization/groups/:groupId/role_assignments',
    handle: (c) => {
      const entries = c.body.objects('role_assignments').map((entry) => ({ roleSlug: entry.required('role_slug'), ref: entry.resourceRef('') }));
      const assignments = c.model.replaceGroupRoles(c.param('groupId'), entries);
      return ok({ object: 'list', data: assignments.map(groupAssignmentSerializer(c)), list_metadata: { before: null, after: null } });
    },
  },
  removeGroupRoleAssignments: {
    method: 'DELETE',
    path: '/authorization/groups/:groupId/role_assignments',
    handle: (c) => {
      c.model.removeGroupRoles(c.param('groupId'), c.body.required('role_slug'), c.body.resourceRef(''));
      return noContent();
    },
  },
  getGroupRoleAssignment: {
    method: 'GET',
    path: '/authorization/groups/:groupId/role_assignments/:assignmentId',
    handle: (c) => ok(groupAssignmentSerializer(c)(c.model.getGroupAssignment(c.param('groupId'), c.param('assignmentId')))),
  },
  removeGroupRoleAssignment: {
    method: 'DELETE',
    path: '/authorization/groups/:groupId/role_assignments/:assignmentId',
    handle: (c) => {
      c.model.removeGroupAssignment(c.param('groupId'), c.param('assignmentId'));
      return noContent();
    },
  },
} satisfies Record<EndpointName, Route>;

function groupAssignmentSerializer(context: RouteContext) {
  const group = context.model.getGroup(context.param('groupId'));
  return (assignment: GroupAssignmentRecord) =>
    serializeGroupAssignment(
      assignment,
      assignment.resourceId === null ? null : context.model.getResource({ id: assignment.resourceId }),
      group.organizationId,
    );
}

function listAssignments(context: RouteContext, assignments: ReturnType<FgaModel['listAssignments']>): Reply {
  const entries = assignments.map((entry) => ({ id: entry.assignment.id, ...entry }));
  return list(context, entries, (entry) => serializeAssignment(entry.assignment, entry.resource));
}

function listMembershipsForResource(context: RouteContext, ref: ResourceRef): Reply {
  const query = Fields.ofQuery(context.query);
  const memberships = context.model.membershipsForResource(ref, query.required('permission_slug'), assignmentFilter(context.query.get('assignment')));
  return list(context, memberships, (membership) => serializeAuthorizationMembership(membership, context.model.getUser(membership.userId)));
}

interface CompiledRoute {
  name: EndpointName;
  route: Route;
  pattern: RegExp;
  paramNames: string[];
}

const compiledRoutes: CompiledRoute[] = Object.entries(routes as Record<EndpointName, Route>).map(([name, route]) => {
  const paramNames: string[] = [];
  const source = route.path.replace(/:(\w+)/g, (_, paramName: string) => {
    paramNames.push(paramName);
    return '([^/]+)';
  });
  return { name: name as EndpointName, route, pattern: new RegExp(`^${source}$`), paramNames };
});

function matchRoute(method: string, pathname: string): { name: EndpointName; route: Route; params: Map<string, string> } | undefined {
  for (const candidate of compiledRoutes) {
    if (candidate.route.method !== method) continue;
    const match = candidate.pattern.exec(pathname);
    if (!match) continue;
    const params = new Map(candidate.paramNames.map((paramName, index) => [paramName, decodeURIComponent(match[index + 1] ?? '')]));
    return { name: candidate.name, route: candidate.route, params };
  }
  return undefined;
}

export interface KitServerOptions {
  host: string;
  port: number;
  apiKey: string;
  clientId: string;
  model: FgaModel;
  events: EventLog;
  sessions: SessionRegistry;
  keys: SigningKeys;
  machineKeys: SigningKeys;
  faults: FaultRegistry<EndpointName>;
  counters: CallCounters<EndpointName>;
  unknownSlugs: UnknownSlugLog;
}

export interface KitServer {
  port: number;
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed || response.headersSent) return;
  const isRaw = typeof body === 'string';
  response.setHeader('content-type', isRaw ? 'text/html' : 'application/json');
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.statusCode = status;
  response.end(body === undefined ? undefined : isRaw ? body : JSON.stringify(body));
}

export async function startServer(options: KitServerOptions): Promise<KitServer> {
  const sockets = new Set<Socket>();
  const pendingDelays = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const pending = {
        resolve,
        timer: setTimeout(() => {
          pendingDelays.delete(pending);
          resolve();
        }, ms),
      };
      pendingDelays.add(pending);
    });

  /** Applies a fault; true when it answered (or dropped) the call itself. */
  async function applyFault(fault: Fault, request: IncomingMessage, response: ServerResponse, requestId: string): Promise<boolean> {
    if (fault.delay) await sleep(fault.delay);
    if (fault.drop || response.destroyed) {
      request.socket.destroy();
      return true;
    }
    if (fault.status === undefined && fault.body === undefined) return false;
    const body = fault.body ?? { code: 'injected_fault', message: 'Injected fault' };
    send(response, fault.status ?? 200, body, { 'x-request-id': requestId, ...fault.headers });
    return true;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = `req_${randomUUID()}`;
    const reply = (status: number, body?: unknown) => send(response, status, body, { 'x-request-id': requestId });
    const url = new URL(request.url ?? '/', 'http://testkit.invalid');
    const match = matchRoute(request.method ?? 'GET', url.pathname);
    if (match) options.counters.record(match.name);
    const rawBody = await readBody(request);

    const fault = options.faults.take(match?.name);
    if (fault && (await applyFault(fault, request, response, requestId))) return;

    if (!match) return reply(404, { code: 'entity_not_found', message: `No endpoint ${request.method} ${url.pathname}.` });
    if (!match.route.public && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return reply(401, { code: 'unauthorized', message: 'Could not authorize the request. Check the API key.' });
    }
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      return reply(400, { code: 'invalid_json', message: 'The request body is not valid JSON.' });
    }
    try {
      const result = match.route.handle({
        model: options.model,
        events: options.events,
        sessions: options.sessions,
        keys: options.keys,
        machineKeys: options.machineKeys,
        clientId: options.clientId,
        unknownSlugs: options.unknownSlugs,
        param: (name) => match.params.get(name) ?? '',
        query: url.searchParams,
        body: Fields.ofBody(body),
      });
      reply(result.status, result.body);
    } catch (error) {
      if (error instanceof ApiError) return reply(error.status, error.toBody());
      reply(500, { code: 'internal_error', message: error instanceof Error ? error.message : String(error) });
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { code: 'internal_error', message: String(error) }, { 'x-request-id': `req_${randomUUID()}` });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;

  let closing: Promise<void> | undefined;
  return {
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const pending of pendingDelays) {
          clearTimeout(pending.timer);
          pending.resolve();
        }
        pendingDelays.clear();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
