import { randomBytes } from 'node:crypto';
import type {
  AssignmentRecord,
  GroupAssignmentRecord,
  GroupRecord,
  MembershipRecord,
  OrganizationRecord,
  PermissionRecord,
  ResourceRecord,
  RoleRecord,
  UserRecord,
} from './model.js';

/** An API error as WorkOS sends it: `{ code, message }` (+ `errors` for field validation). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: ReadonlyArray<{ field: string; code: string }>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): Record<string, unknown> {
    return this.errors ? { code: this.code, message: this.message, errors: this.errors } : { code: this.code, message: this.message };
  }
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'entity_not_found', `${what} not found.`);
}

export function unprocessable(code: string, message: string): ApiError {
  return new ApiError(422, code, message);
}

export function invalidParameter(field: string, problem: 'required' | 'invalid', message: string): ApiError {
  return new ApiError(422, 'invalid_request_parameters', message, [{ field, code: `${field}_${problem}` }]);
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `value` (a non-negative integer) in Crockford base32, left-padded to `length` digits. */
export function crockford(value: number, length: number): string {
  let digits = '';
  for (let rest = value, i = 0; i < length; i++) {
    digits = CROCKFORD.charAt(rest % 32) + digits;
    rest = Math.floor(rest / 32);
  }
  return digits;
}

export function randomCrockford(length: number): string {
  return Array.from(randomBytes(length), (byte) => CROCKFORD.charAt(byte % 32)).join('');
}

/** WorkOS-style id: `<prefix>_` + a ULID (time-ordered, Crockford base32). */
export function generateId(prefix: string): string {
  return `${prefix}_${crockford(Date.now(), 10)}${randomCrockford(16)}`;
}

export const ORGANIZATION_LEVEL_TYPE = 'organization';

export function serializeResource(resource: ResourceRecord) {
  return {
    object: 'authorization_resource',
    id: resource.id,
    external_id: resource.externalId,
    name: resource.name,
    description: resource.description,
    resource_type_slug: resource.resourceTypeSlug,
    organization_id: resource.organizationId,
    parent_resource_id: resource.parentResourceId,
    created_at: resource.createdAt,
    updated_at: resource.updatedAt,
  };
}

export function serializeRole(role: RoleRecord) {
  return {
    object: 'role',
    id: role.id,
    name: role.name,
    slug: role.slug,
    description: role.description,
    permissions: [...role.permissions],
    resource_type_slug: role.resourceTypeSlug ?? ORGANIZATION_LEVEL_TYPE,
    type: role.organizationId ? 'OrganizationRole' : 'EnvironmentRole',
    created_at: role.createdAt,
    updated_at: role.updatedAt,
  };
}

export function serializePermission(permission: PermissionRecord) {
  return {
    object: 'permission',
    id: permission.id,
    slug: permission.slug,
    name: permission.name,
    description: permission.description,
    resource_type_slug: permission.resourceTypeSlug ?? ORGANIZATION_LEVEL_TYPE,
    system: false,
    created_at: permission.createdAt,
    updated_at: permission.updatedAt,
  };
}

/** The membership as the authorization discovery endpoints return it (no role, no organization name). */
export function serializeAuthorizationMembership(membership: MembershipRecord, user: UserRecord) {
  return {
    object: 'organization_membership',
    id: membership.id,
    user_id: membership.userId,
    organization_id: membership.organizationId,
    status: membership.status,
    directory_managed: false,
    custom_attributes: {},
    created_at: membership.createdAt,
    updated_at: membership.updatedAt,
    user: serializeUser(user),
  };
}

export function serializeUser(user: UserRecord) {
  return {
    object: 'user',
    id: user.id,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    profile_picture_url: null,
    email_verified: true,
    external_id: null,
    metadata: {},
    last_sign_in_at: null,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

/** The membership as `/user_management/organization_memberships` returns it (SDK 12 reads `user`). */
export function serializeMembership(membership: MembershipRecord, organizationName: string, user: UserRecord) {
  return {
    ...serializeAuthorizationMembership(membership, user),
    organization_name: organizationName,
    role: { slug: membership.roleSlug },
    roles: [{ slug: membership.roleSlug }],
  };
}

export function serializeAssignment(assignment: AssignmentRecord, resource: ResourceRecord) {
  return {
    object: 'role_assignment',
    id: assignment.id,
    organization_membership_id: assignment.membershipId,
    role: { slug: assignment.roleSlug },
    resource: {
      id: resource.id,
      external_id: resource.externalId,
      resource_type_slug: resource.resourceTypeSlug,
    },
    source: { type: 'direct', group_role_assignment_id: null },
    created_at: assignment.createdAt,
    updated_at: assignment.updatedAt,
  };
}

/** `resource` null = the organization itself; its wire form (the organization as a resource) is the kit's guess. */
export function serializeGroupAssignment(assignment: GroupAssignmentRecord, resource: ResourceRecord | null, organizationId: string) {
  return {
    object: 'group_role_assignment',
    id: assignment.id,
    group_id: assignment.groupId,
    role: { slug: assignment.roleSlug },
    resource: resource
      ? { id: resource.id, external_id: resource.externalId, resource_type_slug: resource.resourceTypeSlug }
      : { id: organizationId, external_id: organizationId, resource_type_slug: ORGANIZATION_LEVEL_TYPE },
    created_at: assignment.createdAt,
    updated_at: assignment.updatedAt,
  };
}

export interface PageQuery {
  limit?: string | null;
  before?: string | null;
  after?: string | null;
  order?: string | null;
}

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

/**
 * One page of `items` (given in creation order) as a WorkOS list. Cursors are item ids; `sequenceOf`
 * gives the creation position of any id ever issued, so a cursor stays valid after its item is deleted.
 */
export function paginate<T extends { id: string }>(
  items: readonly T[],
  query: PageQuery,
  sequenceOf: (id: string) => number | undefined,
  serialize: (item: T) => unknown,
) {
  const limit = query.limit == null ? DEFAULT_PAGE_SIZE : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw invalidParameter('limit', 'invalid', `limit must be an integer between 1 and ${MAX_PAGE_SIZE}.`);
  }
  const order = query.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidParameter('order', 'invalid', 'order must be asc or desc.');
  const ordered = order === 'asc' ? [...items] : [...items].reverse();
  const position = (id: string) => sequenceOf(id) ?? Number.NaN;
  // "a comes later than b in the requested order"
  const isLater = (a: number, b: number) => (order === 'asc' ? a > b : a < b);

  let page: T[];
  if (query.after) {
    const cursor = position(query.after);
    page = ordered.filter((item) => isLater(position(item.id), cursor)).slice(0, limit);
  } else if (query.before) {
    const cursor = position(query.before);
    page = ordered.filter((item) => isLater(cursor, position(item.id))).slice(-limit);
  } else {
    page = ordered.slice(0, limit);
  }
  const first = page[0];
  const last = page[page.length - 1];
  const hasEarlier = first !== undefined && ordered.indexOf(first) > 0;
  const hasLater = last !== undefined && ordered.indexOf(last) < ordered.length - 1;
  return {
    object: 'list',
    data: page.map(serialize),
    list_metadata: { before: hasEarlier ? first.id : null, after: hasLater ? last.id : null },
  };
}

// ---- event data: what WorkOS puts in `data` of each event type (the SDK's event deserializers read these) ----

/** `organization_membership.*`: the membership as the API returns it, without the embedded user. */
export function serializeMembershipEvent(membership: MembershipRecord, organizationName: string) {
  return {
    object: 'organization_membership',
    id: membership.id,
    user_id: membership.userId,
    organization_id: membership.organizationId,
    organization_name: organizationName,
    status: membership.status,
    role: { slug: membership.roleSlug },
    roles: [{ slug: membership.roleSlug }],
    directory_managed: false,
    custom_attributes: {},
    created_at: membership.createdAt,
    updated_at: membership.updatedAt,
  };
}

/** `role.*` (environment roles): WorkOS sends fewer fields than the role API does. */
export function serializeRoleEvent(role: RoleRecord) {
  return {
    object: 'role',
    slug: role.slug,
    resource_type_slug: role.resourceTypeSlug ?? ORGANIZATION_LEVEL_TYPE,
    permissions: [...role.permissions],
    created_at: role.createdAt,
    updated_at: role.updatedAt,
  };
}

/** `organization_role.*` */
export function serializeOrganizationRoleEvent(role: RoleRecord & { organizationId: string }) {
  return {
    object: 'organization_role',
    organization_id: role.organizationId,
    slug: role.slug,
    name: role.name,
    description: role.description,
    resource_type_slug: role.resourceTypeSlug ?? ORGANIZATION_LEVEL_TYPE,
    permissions: [...role.permissions],
    created_at: role.createdAt,
    updated_at: role.updatedAt,
  };
}

export function serializeOrganization(organization: OrganizationRecord) {
  return {
    object: 'organization',
    id: organization.id,
    name: organization.name,
    allow_profiles_outside_organization: false,
    domains: [],
    external_id: null,
    metadata: {},
    created_at: organization.createdAt,
    updated_at: organization.updatedAt,
  };
}

export function serializeGroup(group: GroupRecord) {
  return {
    object: 'group',
    id: group.id,
    organization_id: group.organizationId,
    name: group.name,
    description: null,
    created_at: group.createdAt,
    updated_at: group.updatedAt,
  };
}
