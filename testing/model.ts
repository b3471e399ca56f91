import { ApiError, ORGANIZATION_LEVEL_TYPE, generateId, notFound, unprocessable } from './wire.js';

export type MembershipStatus = 'active' | 'inactive' | 'pending';
export const MEMBERSHIP_STATUSES: readonly MembershipStatus[] = ['active', 'inactive', 'pending'];

interface Timestamps {
  createdAt: string;
  updatedAt: string;
}

export interface ResourceTypeRecord {
  slug: string;
  /** Declared parent type; null = directly under the organization. */
  parentSlug: string | null;
}

export interface OrganizationRecord extends Timestamps {
  id: string;
  name: string;
}

export interface UserRecord extends Timestamps {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
}

export interface MembershipRecord extends Timestamps {
  id: string;
  userId: string;
  organizationId: string;
  /** Slug of the membership's organization-level role. */
  roleSlug: string;
  status: MembershipStatus;
}

export interface RoleRecord extends Timestamps {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  permissions: string[];
  /** null = organization-level role (usable as a membership's role). */
  resourceTypeSlug: string | null;
  /** null = environment role; otherwise an organization role of that organization. */
  organizationId: string | null;
}

export interface PermissionRecord extends Timestamps {
  id: string;
  slug: string;
  name: string;
  description: string | null;
  resourceTypeSlug: string | null;
}

export interface ResourceRecord extends Timestamps {
  id: string;
  externalId: string;
  name: string;
  description: string | null;
  resourceTypeSlug: string;
  organizationId: string;
  parentResourceId: string | null;
}

export interface AssignmentRecord extends Timestamps {
  id: string;
  membershipId: string;
  roleSlug: string;
  resourceId: string;
}

export interface GroupRecord extends Timestamps {
  id: string;
  organizationId: string;
  name: string;
  /** Organization membership ids: each member inherits the group's role assignments. */
  memberIds: string[];
}

export interface GroupAssignmentRecord extends Timestamps {
  id: string;
  groupId: string;
  roleSlug: string;
  /** null = the organization itself (an organization-level role). */
  resourceId: string | null;
}

/** A resource named by id, or by external id + type inside an organization. */
export type ResourceRef = { id: string } | { organizationId: string; typeSlug: string; externalId: string };
/** A resource named for a membership: by id, or by external id + type inside the membership's organization. */
export type MembershipResourceRef = { id: string } | { typeSlug: string; externalId: string };

export interface CreateResourceInput {
  id?: string;
  organizationId: string;
  resourceTypeSlug: string;
  externalId: string;
  name?: string;
  description?: string | null;
  /** Parent by id, or by type + external id inside the new resource's organization. */
  parent?: { id: string } | { typeSlug: string; externalId: string };
}

export interface CreateRoleInput {
  slug: string;
  name?: string;
  description?: string | null;
  resourceTypeSlug?: string | null;
  organizationId?: string | null;
  permissions?: readonly string[];
}

export interface ResourceFilter {
  organizationId?: string;
  resourceTypeSlug?: string;
  parentResourceId?: string;
  parentResourceTypeSlug?: string;
  parentExternalId?: string;
  externalId?: string;
}

export interface AssignmentFilter {
  membershipId?: string;
  resourceId?: string;
  resourceExternalId?: string;
  resourceTypeSlug?: string;
  roleSlug?: string;
}

interface ModelState {
  resourceTypes: Map<string, ResourceTypeRecord>;
  organizations: Map<string, OrganizationRecord>;
  users: Map<string, UserRecord>;
  memberships: Map<string, MembershipRecord>;
  /** Keyed by {@link roleKey}. */
  roles: Map<string, RoleRecord>;
  /** Keyed by slug. */
  permissions: Map<string, PermissionRecord>;
  resources: Map<string, ResourceRecord>;
  /** Resource id by {@link externalKey}: checks by external id are the common case. */
  resourceIdsByExternalKey: Map<string, string>;
  assignments: Map<string, AssignmentRecord>;
  groups: Map<string, GroupRecord>;
  groupAssignments: Map<string, GroupAssignmentRecord>;
  /** Creation position of every id ever issued (list order and cursors). */
  sequence: Map<string, number>;
  nextSequence: number;
}

function emptyState(): ModelState {
  return {
    resourceTypes: new Map(),
    organizations: new Map(),
    users: new Map(),
    memberships: new Map(),
    roles: new Map(),
    permissions: new Map(),
    resources: new Map(),
    resourceIdsByExternalKey: new Map(),
    assignments: new Map(),
    groups: new Map(),
    groupAssignments: new Map(),
    sequence: new Map(),
    nextSequence: 0,
  };
}

const roleKey = (organizationId: string | null, slug: string) => `${organizationId ?? '*'}/${slug}`;

const externalKey = (organizationId: string, typeSlug: string, externalId: string) =>
  JSON.stringify([organizationId, typeSlug, externalId]);

const describeRef = (ref: ResourceRef) => ('id' in ref ? ref.id : `${ref.typeSlug}/${ref.externalId}`);

function timestamps(): Timestamps {
  const now = new Date().toISOString();
  return { createdAt: now, updatedAt: now };
}

/** The in-memory FGA model: everything the kit serves, plus check and inheritance logic. */
export class FgaModel {
  private state: ModelState;

  constructor(state: ModelState = emptyState()) {
    this.state = state;
  }

  /** An independent copy, so a seed can be tried out and only adopted when all of it is valid. */
  clone(): FgaModel {
    return new FgaModel(structuredClone(this.state));
  }

  adopt(other: FgaModel): void {
    this.state = other.state;
  }

  sequenceOf = (id: string): number | undefined => this.state.sequence.get(id);

  private track(id: string): void {
    this.state.sequence.set(id, this.state.nextSequence++);
  }

  private insert<T extends { id: string }>(collection: Map<string, T>, record: T, kind: string): T {
    if (collection.has(record.id)) throw new ApiError(409, 'entity_already_exists', `${kind} ${record.id} already exists.`);
    this.track(record.id);
    collection.set(record.id, record);
    return record;
  }

  // ---- resource types ---------------------------------------------------------------------------

  addResourceType(slug: string, parentSlug: string | null): ResourceTypeRecord {
    if (slug === ORGANIZATION_LEVEL_TYPE) throw unprocessable('invalid_resource_type', `"${slug}" is reserved.`);
    if (this.state.resourceTypes.has(slug)) throw new ApiError(409, 'entity_already_exists', `Resource type ${slug} already exists.`);
    if (parentSlug !== null && !this.state.resourceTypes.has(parentSlug)) {
      throw unprocessable('invalid_resource_type', `Unknown parent type ${parentSlug} (declare it before its children).`);
    }
    const record = { slug, parentSlug };
    this.state.resourceTypes.set(slug, record);
    return record;
  }

  hasResourceType(slug: string): boolean {
    return this.state.resourceTypes.has(slug);
  }

  private requireResourceType(slug: string): ResourceTypeRecord {
    const record = this.state.resourceTypes.get(slug);
    if (!record) throw unprocessable('invalid_resource_type', `Unknown resource type ${slug}.`);
    return record;
  }

  // ---- organizations, users, memberships --------------------------------------------------------

  addOrganization(input: { id?: string; name: string }): OrganizationRecord {
    const record = { id: input.id ?? generateId('org'), name: input.name, ...timestamps() };
    return this.insert(this.state.organizations, record, 'Organization');
  }

  hasOrganization(id: string): boolean {
    return this.state.organizations.has(id);
  }

  hasUser(id: string): boolean {
    return this.state.users.has(id);
  }

  findMembershipById(id: string): MembershipRecord | undefined {
    return this.state.memberships.get(id);
  }

  getOrganization(id: string): OrganizationRecord {
    const record = this.state.organizations.get(id);
    if (!record) throw notFound(`Organization ${id}`);
    return record;
  }

  addUser(input: { id?: string; email: string; firstName?: string | null; lastName?: string | null }): UserRecord {
    const record = {
      id: input.id ?? generateId('user'),
      email: input.email,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      ...timestamps(),
    };
    return this.insert(this.state.users, record, 'User');
  }

  getUser(id: string): UserRecord {
    const record = this.state.users.get(id);
    if (!record) throw notFound(`User ${id}`);
    return record;
  }

  addMembership(input: {
    id?: string;
    userId: string;
    organizationId: string;
    roleSlug: string;
    status?: MembershipStatus;
  }): MembershipRecord {
    this.getUser(input.userId);
    this.getOrganization(input.organizationId);
    const role = this.resolveRole(input.organizationId, input.roleSlug);
    if (!role) throw notFound(`Role ${input.roleSlug}`);
    if (role.resourceTypeSlug !== null) {
      throw unprocessable('invalid_role', `Role ${role.slug} is scoped to ${role.resourceTypeSlug}; a membership needs an organization-level role.`);
    }
    const record: MembershipRecord = {
      id: input.id ?? generateId('om'),
      userId: input.userId,
      organizationId: input.organizationId,
      roleSlug: input.roleSlug,
      status: input.status ?? 'active',
      ...timestamps(),
    };
    return this.insert(this.state.memberships, record, 'Organization membership');
  }

  getMembership(id: string): MembershipRecord {
    const record = this.state.memberships.get(id);
    if (!record) throw notFound(`Organization membership ${id}`);
    return record;
  }

  findMembership(userId: string, organizationId: string): MembershipRecord | undefined {
    return [...this.state.memberships.values()].find((m) => m.userId === userId && m.organizationId === organizationId);
  }

  listMemberships(filter: { userId?: string; organizationId?: string; statuses: readonly MembershipStatus[] }): MembershipRecord[] {
    return [...this.state.memberships.values()].filter(
      (m) =>
        (!filter.userId || m.userId === filter.userId) &&
        (!filter.organizationId || m.organizationId === filter.organizationId) &&
        filter.statuses.includes(m.status),
    );
  }

  setMembershipStatus(id: string, status: MembershipStatus): MembershipRecord {
    const record = this.getMembership(id);
    record.status = status;
    record.updatedAt = new Date().toISOString();
    return record;
  }

  // ---- permissions ------------------------------------------------------------------------------

  createPermission(input: { slug: string; name?: string; description?: string | null; resourceTypeSlug?: string | null }): PermissionRecord {
    if (this.state.permissions.has(input.slug)) {
      throw new ApiError(409, 'permission_slug_conflict', `Permission ${input.slug} already exists.`);
    }
    const resourceTypeSlug = this.normalizeTypeSlug(input.resourceTypeSlug);
    if (resourceTypeSlug) this.requireResourceType(resourceTypeSlug);
    const record: PermissionRecord = {
      id: generateId('perm'),
      slug: input.slug,
      name: input.name ?? input.slug,
      description: input.description ?? null,
      resourceTypeSlug,
      ...timestamps(),
    };
    this.track(record.id);
    this.state.permissions.set(record.slug, record);
    return record;
  }

  hasPermission(slug: string): boolean {
    return this.state.permissions.has(slug);
  }

  getPermission(slug: string): PermissionRecord {
    const record = this.state.permissions.get(slug);
    if (!record) throw notFound(`Permission ${slug}`);
    return record;
  }

  listPermissions(): PermissionRecord[] {
    return [...this.state.permissions.values()];
  }

  updatePermission(slug: string, changes: { name?: string; description?: string | null }): PermissionRecord {
    const record = this.getPermission(slug);
    Object.assign(record, definedOnly(changes), { updatedAt: new Date().toISOString() });
    return record;
  }

  deletePermission(slug: string): PermissionRecord {
    const record = this.getPermission(slug);
    this.state.permissions.delete(slug);
    for (const role of this.state.roles.values()) role.permissions = role.permissions.filter((p) => p !== slug);
    return record;
  }

  // ---- roles ------------------------------------------------------------------------------------

  createRole(input: CreateRoleInput): RoleRecord {
    const organizationId = input.organizationId ?? null;
    if (organizationId) this.getOrganization(organizationId);
    const resourceTypeSlug = this.normalizeTypeSlug(input.resourceTypeSlug);
    if (resourceTypeSlug) this.requireResourceType(resourceTypeSlug);
    const key = roleKey(organizationId, input.slug);
    if (this.state.roles.has(key)) {
      throw new ApiError(409, organizationId ? 'organization_role_slug_conflict' : 'role_slug_conflict', `Role ${input.slug} already exists.`);
    }
    const permissions = input.permissions ?? [];
    permissions.forEach((slug) => this.getPermission(slug));
    const record: RoleRecord = {
      id: generateId('role'),
      slug: input.slug,
      name: input.name ?? input.slug,
      description: input.description ?? null,
      permissions: [...new Set(permissions)],
      resourceTypeSlug,
      organizationId,
      ...timestamps(),
    };
    this.track(record.id);
    this.state.roles.set(key, record);
    return record;
  }

  /** A role in exactly this scope (null = environment role). */
  getRole(organizationId: string | null, slug: string): RoleRecord {
    if (organizationId) this.getOrganization(organizationId);
    const record = this.state.roles.get(roleKey(organizationId, slug));
    if (!record) throw notFound(`Role ${slug}`);
    return record;
  }

  /** The role a slug means inside an organization: its own organization role first, else the environment role. */
  private resolveRole(organizationId: string, slug: string): RoleRecord | undefined {
    return this.state.roles.get(roleKey(organizationId, slug)) ?? this.state.roles.get(roleKey(null, slug));
  }

  /** Permissions of the role a slug means inside the organization; none for an unknown role. */
  rolePermissions(organizationId: string, slug: string): string[] {
    return [...(this.resolveRole(organizationId, slug)?.permissions ?? [])];
  }

  listEnvironmentRoles(): RoleRecord[] {
    return [...this.state.roles.values()].filter((role) => role.organizationId === null);
  }

  /** What an organization sees: the environment roles plus its own organization roles. */
  listOrganizationRoles(organizationId: string): RoleRecord[] {
    this.getOrganization(organizationId);
    return [...this.state.roles.values()].filter((role) => role.organizationId === null || role.organizationId === organizationId);
  }

  updateRole(organizationId: string | null, slug: string, changes: { name?: string; description?: string | null }): RoleRecord {
    const record = this.getRole(organizationId, slug);
    Object.assign(record, definedOnly(changes), { updatedAt: new Date().toISOString() });
    return record;
  }

  setRolePermissions(organizationId: string | null, slug: string, permissions: readonly string[]): RoleRecord {
    const record = this.getRole(organizationId, slug);
    permissions.forEach((permission) => this.getPermission(permission));
    record.permissions = [...new Set(permissions)];
    record.updatedAt = new Date().toISOString();
    return record;
  }

  addRolePermission(organizationId: string | null, slug: string, permission: string): RoleRecord {
    const record = this.getRole(organizationId, slug);
    return this.setRolePermissions(organizationId, slug, [...record.permissions, permission]);
  }

  removeRolePermission(organizationId: string | null, slug: string, permission: string): RoleRecord {
    const record = this.getRole(organizationId, slug);
    return this.setRolePermissions(organizationId, slug, record.permissions.filter((p) => p !== permission));
  }

  deleteRole(organizationId: string | null, slug: string): RoleRecord {
    const record = this.getRole(organizationId, slug);
    this.state.roles.delete(roleKey(record.organizationId, record.slug));
    return record;
  }

  private normalizeTypeSlug(slug: string | null | undefined): string | null {
    return slug && slug !== ORGANIZATION_LEVEL_TYPE ? slug : null;
  }

  // ---- resources --------------------------------------------------------------------------------

  createResource(input: CreateResourceInput): ResourceRecord {
    this.getOrganization(input.organizationId);
    const type = this.requireResourceType(input.resourceTypeSlug);
    const ref: ResourceRef = { organizationId: input.organizationId, typeSlug: type.slug, externalId: input.externalId };
    if (this.findResource(ref)) {
      throw new ApiError(409, 'authorization_resource_external_id_conflict', `Resource ${describeRef(ref)} already exists in ${input.organizationId}.`);
    }
    const parent = input.parent
      ? this.findResource('id' in input.parent ? input.parent : { organizationId: input.organizationId, ...input.parent })
      : undefined;
    if (input.parent && !parent) {
      throw notFound(`Parent resource ${'id' in input.parent ? input.parent.id : `${input.parent.typeSlug}/${input.parent.externalId}`}`);
    }
    if (parent && parent.organizationId !== input.organizationId) {
      throw unprocessable('invalid_parent_resource', `Parent resource ${parent.id} belongs to another organization.`);
    }
    if ((parent?.resourceTypeSlug ?? null) !== type.parentSlug) {
      throw unprocessable(
        'invalid_parent_resource',
        type.parentSlug
          ? `A ${type.slug} needs a parent of type ${type.parentSlug}${parent ? `, not ${parent.resourceTypeSlug}` : ''}.`
          : `A ${type.slug} sits directly under the organization and takes no parent.`,
      );
    }
    const record: ResourceRecord = {
      id: input.id ?? generateId('authz_resource'),
      externalId: input.externalId,
      name: input.name ?? input.externalId,
      description: input.description ?? null,
      resourceTypeSlug: type.slug,
      organizationId: input.organizationId,
      parentResourceId: parent?.id ?? null,
      ...timestamps(),
    };
    this.insert(this.state.resources, record, 'Resource');
    this.state.resourceIdsByExternalKey.set(externalKey(record.organizationId, record.resourceTypeSlug, record.externalId), record.id);
    return record;
  }

  private findResource(ref: ResourceRef): ResourceRecord | undefined {
    const id = 'id' in ref ? ref.id : this.state.resourceIdsByExternalKey.get(externalKey(ref.organizationId, ref.typeSlug, ref.externalId));
    return id === undefined ? undefined : this.state.resources.get(id);
  }

  getResource(ref: ResourceRef): ResourceRecord {
    const record = this.findResource(ref);
    if (!record) throw notFound(`Resource ${describeRef(ref)}`);
    return record;
  }

  updateResource(ref: ResourceRef, changes: { name?: string; description?: string | null }): ResourceRecord {
    const record = this.getResource(ref);
    Object.assign(record, definedOnly(changes), { updatedAt: new Date().toISOString() });
    return record;
  }

  /** Refuses (409) while the resource has children or role assignments, unless `cascade`. */
  deleteResource(ref: ResourceRef, cascade: boolean): void {
    const record = this.getResource(ref);
    const doomed = this.subtree(record);
    const doomedIds = new Set(doomed.map((r) => r.id));
    const doomedAssignments = [...this.state.assignments.values()].filter((a) => doomedIds.has(a.resourceId));
    const doomedGroupAssignments = [...this.state.groupAssignments.values()].filter((a) => a.resourceId !== null && doomedIds.has(a.resourceId));
    if (!cascade && (doomed.length > 1 || doomedAssignments.length > 0 || doomedGroupAssignments.length > 0)) {
      throw new ApiError(
        409,
        'resource_has_dependents',
        `Resource ${record.id} has child resources or role assignments; delete with cascade_delete=true to remove them too.`,
      );
    }
    doomedAssignments.forEach((a) => this.state.assignments.delete(a.id));
    doomedGroupAssignments.forEach((a) => this.state.groupAssignments.delete(a.id));
    for (const resource of doomed) {
      this.state.resources.delete(resource.id);
      this.state.resourceIdsByExternalKey.delete(externalKey(resource.organizationId, resource.resourceTypeSlug, resource.externalId));
    }
  }

  listResources(filter: ResourceFilter): ResourceRecord[] {
    const byParentExternalId = filter.parentExternalId
      ? new Set(
          [...this.state.resources.values()]
            .filter(
              (r) =>
                r.externalId === filter.parentExternalId &&
                (!filter.parentResourceTypeSlug || r.resourceTypeSlug === filter.parentResourceTypeSlug) &&
                (!filter.organizationId || r.organizationId === filter.organizationId),
            )
            .map((r) => r.id),
        )
      : undefined;
    return [...this.state.resources.values()].filter(
      (r) =>
        (!filter.organizationId || r.organizationId === filter.organizationId) &&
        (!filter.resourceTypeSlug || r.resourceTypeSlug === filter.resourceTypeSlug) &&
        (!filter.externalId || r.externalId === filter.externalId) &&
        (!filter.parentResourceId || r.parentResourceId === filter.parentResourceId) &&
        (!byParentExternalId || (r.parentResourceId !== null && byParentExternalId.has(r.parentResourceId))),
    );
  }

  /** The resource followed by its ancestors, nearest first. */
  private lineage(resource: ResourceRecord): ResourceRecord[] {
    const chain = [resource];
    for (let parentId = resource.parentResourceId; parentId; ) {
      const parent = this.state.resources.get(parentId);
      if (!parent) break;
      chain.push(parent);
      parentId = parent.parentResourceId;
    }
    return chain;
  }

  /** The resource and all its descendants. */
  private subtree(resource: ResourceRecord): ResourceRecord[] {
    const all = [...this.state.resources.values()];
    const found = [resource];
    for (let i = 0; i < found.length; i++) {
      const parentId = found[i]?.id;
      found.push(...all.filter((r) => r.parentResourceId === parentId));
    }
    return found;
  }

  // ---- role assignments -------------------------------------------------------------------------

  /** Membership resources given by external id are looked up in the membership's organization. */
  private membershipResource(membership: MembershipRecord, ref: MembershipResourceRef): ResourceRecord {
    return this.getResource('id' in ref ? ref : { organizationId: membership.organizationId, ...ref });
  }

  assignRole(membershipId: string, roleSlug: string, ref: MembershipResourceRef): AssignmentRecord {
    const membership = this.getMembership(membershipId);
    const resource = this.membershipResource(membership, ref);
    const role = this.resolveRole(membership.organizationId, roleSlug);
    if (!role) throw notFound(`Role ${roleSlug}`);
    if (resource.organizationId !== membership.organizationId) {
      throw unprocessable('invalid_resource', `Resource ${resource.id} belongs to another organization than membership ${membership.id}.`);
    }
    if (role.resourceTypeSlug !== resource.resourceTypeSlug) {
      throw unprocessable(
        'invalid_role_for_resource_type',
        `Role ${role.slug} is scoped to ${role.resourceTypeSlug ?? ORGANIZATION_LEVEL_TYPE} and cannot be assigned on a ${resource.resourceTypeSlug}.`,
      );
    }
    const existing = [...this.state.assignments.values()].find(
      (a) => a.membershipId === membership.id && a.roleSlug === role.slug && a.resourceId === resource.id,
    );
    if (existing) return existing;
    const record: AssignmentRecord = {
      id: generateId('role_assignment'),
      membershipId: membership.id,
      roleSlug: role.slug,
      resourceId: resource.id,
      ...timestamps(),
    };
    return this.insert(this.state.assignments, record, 'Role assignment');
  }

  removeRole(membershipId: string, roleSlug: string, ref: MembershipResourceRef): void {
    const membership = this.getMembership(membershipId);
    const resource = this.membershipResource(membership, ref);
    const assignment = [...this.state.assignments.values()].find(
      (a) => a.membershipId === membership.id && a.roleSlug === roleSlug && a.resourceId === resource.id,
    );
    if (!assignment) throw notFound(`Role assignment of ${roleSlug} on ${resource.id}`);
    this.state.assignments.delete(assignment.id);
  }

  removeAssignment(membershipId: string, assignmentId: string): void {
    const assignment = this.state.assignments.get(assignmentId);
    if (!assignment || assignment.membershipId !== membershipId) throw notFound(`Role assignment ${assignmentId}`);
    this.state.assignments.delete(assignmentId);
  }

  listAssignments(filter: AssignmentFilter): Array<{ assignment: AssignmentRecord; resource: ResourceRecord }> {
    if (filter.membershipId) this.getMembership(filter.membershipId);
    return [...this.state.assignments.values()].flatMap((assignment) => {
      const resource = this.state.resources.get(assignment.resourceId);
      const matches =
        resource &&
        (!filter.membershipId || assignment.membershipId === filter.membershipId) &&
        (!filter.resourceId || assignment.resourceId === filter.resourceId) &&
        (!filter.resourceExternalId || resource.externalId === filter.resourceExternalId) &&
        (!filter.resourceTypeSlug || resource.resourceTypeSlug === filter.resourceTypeSlug) &&
        (!filter.roleSlug || assignment.roleSlug === filter.roleSlug);
      return matches ? [{ assignment, resource }] : [];
    });
  }

  // ---- groups -----------------------------------------------------------------------------------

  addGroup(input: { id?: string; organizationId: string; name: string; memberIds?: readonly string[] }): GroupRecord {
    this.getOrganization(input.organizationId);
    const memberIds = [...new Set(input.memberIds ?? [])];
    for (const id of memberIds) {
      if (this.getMembership(id).organizationId !== input.organizationId) {
        throw unprocessable('invalid_group_member', `Membership ${id} belongs to another organization than the group.`);
      }
    }
    const record: GroupRecord = { id: input.id ?? generateId('group'), organizationId: input.organizationId, name: input.name, memberIds, ...timestamps() };
    return this.insert(this.state.groups, record, 'Group');
  }

  getGroup(id: string): GroupRecord {
    const record = this.state.groups.get(id);
    if (!record) throw notFound(`Group ${id}`);
    return record;
  }

  /** Adds a membership of the group's organization to the group; false when it already was a member. */
  addGroupMember(groupId: string, membershipId: string): boolean {
    const group = this.getGroup(groupId);
    if (this.getMembership(membershipId).organizationId !== group.organizationId) {
      throw unprocessable('invalid_group_member', `Membership ${membershipId} belongs to another organization than the group.`);
    }
    if (group.memberIds.includes(membershipId)) return false;
    group.memberIds.push(membershipId);
    group.updatedAt = new Date().toISOString();
    return true;
  }

  /** False when the membership was not a member. */
  removeGroupMember(groupId: string, membershipId: string): boolean {
    const group = this.getGroup(groupId);
    if (!group.memberIds.includes(membershipId)) return false;
    group.memberIds = group.memberIds.filter((id) => id !== membershipId);
    group.updatedAt = new Date().toISOString();
    return true;
  }

  private groupAssignmentsOf(membership: MembershipRecord): GroupAssignmentRecord[] {
    const groupIds = new Set([...this.state.groups.values()].filter((g) => g.memberIds.includes(membership.id)).map((g) => g.id));
    return [...this.state.groupAssignments.values()].filter((a) => groupIds.has(a.groupId));
  }

  /** The resource a group assignment targets: null (no reference) = the organization itself. */
  private groupTarget(group: GroupRecord, ref: MembershipResourceRef | undefined): ResourceRecord | null {
    if (!ref) return null;
    const resource = this.getResource('id' in ref ? ref : { organizationId: group.organizationId, ...ref });
    if (resource.organizationId !== group.organizationId) {
      throw unprocessable('invalid_resource', `Resource ${resource.id} belongs to another organization than group ${group.id}.`);
    }
    return resource;
  }

  private groupAssignmentMatching(group: GroupRecord, roleSlug: string, ref: MembershipResourceRef | undefined): GroupAssignmentRecord | undefined {
    const resourceId = this.groupTarget(group, ref)?.id ?? null;
    return [...this.state.groupAssignments.values()].find((a) => a.groupId === group.id && a.roleSlug === roleSlug && a.resourceId === resourceId);
  }

  /** Refuses (409) an assignment the group already has. */
  assignGroupRole(groupId: string, roleSlug: string, ref: MembershipResourceRef | undefined): GroupAssignmentRecord {
    const group = this.getGroup(groupId);
    const resource = this.groupTarget(group, ref);
    const role = this.resolveRole(group.organizationId, roleSlug);
    if (!role) throw notFound(`Role ${roleSlug}`);
    if (role.resourceTypeSlug !== (resource?.resourceTypeSlug ?? null)) {
      throw unprocessable(
        'invalid_role_for_resource_type',
        `Role ${role.slug} is scoped to ${role.resourceTypeSlug ?? ORGANIZATION_LEVEL_TYPE} and cannot be assigned on ${resource ? `a ${resource.resourceTypeSlug}` : 'the organization'}.`,
      );
    }
    if (this.groupAssignmentMatching(group, role.slug, ref)) {
      throw new ApiError(409, 'duplicate_group_role_assignment', `Group ${group.id} already has role ${role.slug} there.`);
    }
    const record: GroupAssignmentRecord = { id: generateId('gra'), groupId: group.id, roleSlug: role.slug, resourceId: resource?.id ?? null, ...timestamps() };
    return this.insert(this.state.groupAssignments, record, 'Group role assignment');
  }

  /** Replaces all the group's assignments; all or nothing. */
  replaceGroupRoles(groupId: string, entries: ReadonlyArray<{ roleSlug: string; ref: MembershipResourceRef | undefined }>): GroupAssignmentRecord[] {
    this.getGroup(groupId);
    const draft = this.clone();
    for (const a of draft.state.groupAssignments.values()) if (a.groupId === groupId) draft.state.groupAssignments.delete(a.id);
    entries.forEach((entry) => draft.assignGroupRole(groupId, entry.roleSlug, entry.ref));
    this.adopt(draft);
    return this.listGroupAssignments(groupId);
  }

  /** Removes the group's assignments of the role on the target; 404 when there is none. */
  removeGroupRoles(groupId: string, roleSlug: string, ref: MembershipResourceRef | undefined): void {
    const group = this.getGroup(groupId);
    const assignment = this.groupAssignmentMatching(group, roleSlug, ref);
    if (!assignment) throw notFound(`Group role assignment of ${roleSlug}`);
    this.state.groupAssignments.delete(assignment.id);
  }

  getGroupAssignment(groupId: string, assignmentId: string): GroupAssignmentRecord {
    this.getGroup(groupId);
    const assignment = this.state.groupAssignments.get(assignmentId);
    if (!assignment || assignment.groupId !== groupId) throw notFound(`Group role assignment ${assignmentId}`);
    return assignment;
  }

  removeGroupAssignment(groupId: string, assignmentId: string): void {
    this.state.groupAssignments.delete(this.getGroupAssignment(groupId, assignmentId).id);
  }

  listGroupAssignments(groupId: string): GroupAssignmentRecord[] {
    this.getGroup(groupId);
    return [...this.state.groupAssignments.values()].filter((a) => a.groupId === groupId);
  }

  // ---- decisions --------------------------------------------------------------------------------

  /**
   * Every permission the membership holds on the resource: its organization-level role, plus roles assigned
   * (to it or to a group it belongs to) on the resource, any ancestor, or the organization. Nothing for an inactive membership or a resource of another organization.
   */
  private grantedPermissions(membership: MembershipRecord, resource: ResourceRecord): Set<string> {
    const granted = new Set<string>();
    if (membership.status !== 'active' || resource.organizationId !== membership.organizationId) return granted;
    const lineageIds = new Set(this.lineage(resource).map((r) => r.id));
    const roleSlugs = [
      membership.roleSlug,
      ...[...this.state.assignments.values()]
        .filter((a) => a.membershipId === membership.id && lineageIds.has(a.resourceId))
        .map((a) => a.roleSlug),
      ...this.groupAssignmentsOf(membership)
        .filter((a) => a.resourceId === null || lineageIds.has(a.resourceId))
        .map((a) => a.roleSlug),
    ];
    for (const slug of roleSlugs) {
      this.resolveRole(membership.organizationId, slug)?.permissions.forEach((p) => granted.add(p));
    }
    return granted;
  }

  /** As WorkOS answers: 404 for an unknown membership, permission or resource, 422 for an unknown resource type. */
  check(membershipId: string, permissionSlug: string, ref: MembershipResourceRef): boolean {
    const membership = this.getMembership(membershipId);
    this.getPermission(permissionSlug);
    if (!('id' in ref)) this.requireResourceType(ref.typeSlug);
    return this.grantedPermissions(membership, this.membershipResource(membership, ref)).has(permissionSlug);
  }

  effectivePermissions(membershipId: string, ref: MembershipResourceRef): PermissionRecord[] {
    const membership = this.getMembership(membershipId);
    const granted = this.grantedPermissions(membership, this.membershipResource(membership, ref));
    return this.listPermissions().filter((p) => granted.has(p.slug));
  }

  /** The children of `parent` on which the membership holds the permission (by any route `check` follows). */
  resourcesForMembership(membershipId: string, permissionSlug: string, parent: MembershipResourceRef): ResourceRecord[] {
    const membership = this.getMembership(membershipId);
    const parentId = this.membershipResource(membership, parent).id;
    return this.listResources({ organizationId: membership.organizationId, parentResourceId: parentId }).filter((resource) =>
      this.grantedPermissions(membership, resource).has(permissionSlug),
    );
  }

  /**
   * Memberships holding the permission on the resource: `direct` = through a role assigned on this very
   * resource (its own or its groups'); `indirect` = by any route (ancestors, organization-level role).
   */
  membershipsForResource(ref: ResourceRef, permissionSlug: string, assignment: 'direct' | 'indirect'): MembershipRecord[] {
    const resource = this.getResource(ref);
    return [...this.state.memberships.values()].filter((membership) => {
      if (assignment === 'indirect') return this.grantedPermissions(membership, resource).has(permissionSlug);
      const grants = (roleSlug: string) => this.resolveRole(membership.organizationId, roleSlug)?.permissions.includes(permissionSlug);
      return (
        membership.status === 'active' &&
        ([...this.state.assignments.values()].some((a) => a.membershipId === membership.id && a.resourceId === resource.id && grants(a.roleSlug)) ||
          this.groupAssignmentsOf(membership).some((a) => a.resourceId === resource.id && grants(a.roleSlug)))
      );
    });
  }
}

function definedOnly<T extends object>(changes: T): Partial<T> {
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined)) as Partial<T>;
}
