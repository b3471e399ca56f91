import {
  MEMBERSHIP_STATUSES,
  type FgaModel,
  type GroupRecord,
  type MembershipRecord,
  type MembershipStatus,
  type OrganizationRecord,
  type PermissionRecord,
  type RoleRecord,
  type UserRecord,
} from './model.js';

/** A resource in a seed: by id, or by type + external id (inside the entry's organization). */
export type SeedResourceRef = { id: string } | { type: string; externalId: string };

/** A whole FGA model as one plain object (the CLI reads the same shape from JSON). */
export interface TestKitSeed {
  /** A type without `parent` sits directly under the organization; a parent must be declared before its children. */
  resourceTypes?: Array<{ slug: string; parent?: string }>;
  /** Optional: permissions named in roles are created on first mention. */
  permissions?: Array<{ slug: string; name?: string; description?: string; resourceType?: string }>;
  /** Without `resourceType`: an organization-level role. With `organization`: an organization role of that organization. */
  roles?: Array<{ slug: string; name?: string; description?: string; resourceType?: string; organization?: string; permissions?: string[] }>;
  organizations?: Array<{ id?: string; name: string }>;
  users?: Array<{ id?: string; email: string; firstName?: string; lastName?: string }>;
  /** `role` (default 'member') must be an organization-level role; `status` defaults to 'active'. */
  memberships?: Array<{ id?: string; user: string; organization: string; role?: string; status?: MembershipStatus }>;
  resources?: Array<{
    id?: string;
    type: string;
    externalId: string;
    organization: string;
    name?: string;
    description?: string;
    parent?: SeedResourceRef;
  }>;
  assignments?: Array<{ membership: string; role: string; resource: SeedResourceRef }>;
  /** `members`: membership ids of the group's organization; they inherit the group's role assignments. */
  groups?: Array<{ id?: string; organization: string; name: string; members?: string[] }>;
  /** Without `resource`: the role is assigned on the organization itself (an organization-level role). */
  groupAssignments?: Array<{ group: string; role: string; resource?: SeedResourceRef }>;
}

/** Something a seed created that WorkOS would announce with an event, in the order it was created. */
export type SeedChange =
  | { kind: 'organization'; record: OrganizationRecord }
  | { kind: 'user'; record: UserRecord }
  | { kind: 'permission'; record: PermissionRecord }
  | { kind: 'role'; record: RoleRecord }
  | { kind: 'membership'; record: MembershipRecord }
  | { kind: 'group'; record: GroupRecord };

export class SeedError extends Error {
  override name = 'SeedError';
}

type Entry = Record<string, unknown>;

function readString(entry: Entry, field: string): string {
  const value = entry[field];
  if (typeof value !== 'string' || value === '') throw new Error(`${field} must be a non-empty string`);
  return value;
}

function readOptionalString(entry: Entry, field: string): string | undefined {
  return entry[field] === undefined ? undefined : readString(entry, field);
}

function readStrings(entry: Entry, field: string): string[] {
  const value = entry[field] ?? [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new Error(`${field} must be an array of strings`);
  return value;
}

function readStatus(entry: Entry): MembershipStatus | undefined {
  const status = readOptionalString(entry, 'status');
  const known = MEMBERSHIP_STATUSES.find((candidate) => candidate === status);
  if (status !== undefined && !known) throw new Error(`status must be one of ${MEMBERSHIP_STATUSES.join(', ')}`);
  return known;
}

function readResourceRef(entry: Entry, field: string): { id: string } | { typeSlug: string; externalId: string } {
  const value = entry[field];
  if (typeof value !== 'object' || value === null) throw new Error(`${field} must be { id } or { type, externalId }`);
  const ref = value as Entry;
  return ref.id !== undefined ? { id: readString(ref, 'id') } : { typeSlug: readString(ref, 'type'), externalId: readString(ref, 'externalId') };
}

/** Runs `apply` on every entry of a section, naming the entry (`seed.roles[2]: …`) in any error. */
function eachEntry(seed: Entry, section: keyof TestKitSeed, apply: (entry: Entry) => void): void {
  const entries = seed[section] ?? [];
  if (!Array.isArray(entries)) throw new SeedError(`seed.${section} must be an array`);
  entries.forEach((entry: unknown, index) => {
    const path = `seed.${section}[${index}]`;
    try {
      if (typeof entry !== 'object' || entry === null) throw new Error('must be an object');
      apply(entry as Entry);
    } catch (error) {
      throw new SeedError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

/**
 * Adds a seed (or a fragment of one) to the model. All or nothing: the seed is applied to a copy, and the
 * copy replaces the model only when every entry was valid. Throws {@link SeedError} naming the offending entry.
 * Returns what it created that WorkOS announces with events (not resource types, resources or assignments).
 */
export function applySeed(model: FgaModel, seed: TestKitSeed): SeedChange[] {
  if (typeof seed !== 'object' || seed === null) throw new SeedError('seed must be an object');
  const source = seed as Entry;
  const draft = model.clone();
  const changes: SeedChange[] = [];

  eachEntry(source, 'resourceTypes', (entry) => {
    draft.addResourceType(readString(entry, 'slug'), readOptionalString(entry, 'parent') ?? null);
  });
  eachEntry(source, 'permissions', (entry) => {
    const record = draft.createPermission({
      slug: readString(entry, 'slug'),
      name: readOptionalString(entry, 'name'),
      description: readOptionalString(entry, 'description'),
      resourceTypeSlug: readOptionalString(entry, 'resourceType'),
    });
    changes.push({ kind: 'permission', record });
  });
  eachEntry(source, 'organizations', (entry) => {
    changes.push({ kind: 'organization', record: draft.addOrganization({ id: readOptionalString(entry, 'id'), name: readString(entry, 'name') }) });
  });
  eachEntry(source, 'users', (entry) => {
    const record = draft.addUser({
      id: readOptionalString(entry, 'id'),
      email: readString(entry, 'email'),
      firstName: readOptionalString(entry, 'firstName'),
      lastName: readOptionalString(entry, 'lastName'),
    });
    changes.push({ kind: 'user', record });
  });
  eachEntry(source, 'roles', (entry) => {
    const permissions = readStrings(entry, 'permissions');
    for (const slug of permissions) {
      if (!draft.hasPermission(slug)) changes.push({ kind: 'permission', record: draft.createPermission({ slug }) });
    }
    const record = draft.createRole({
      slug: readString(entry, 'slug'),
      name: readOptionalString(entry, 'name'),
      description: readOptionalString(entry, 'description'),
      resourceTypeSlug: readOptionalString(entry, 'resourceType'),
      organizationId: readOptionalString(entry, 'organization'),
      permissions,
    });
    changes.push({ kind: 'role', record });
  });
  eachEntry(source, 'memberships', (entry) => {
    const record = draft.addMembership({
      id: readOptionalString(entry, 'id'),
      userId: readString(entry, 'user'),
      organizationId: readString(entry, 'organization'),
      roleSlug: readOptionalString(entry, 'role') ?? 'member',
      status: readStatus(entry),
    });
    changes.push({ kind: 'membership', record });
  });
  eachEntry(source, 'resources', (entry) => {
    draft.createResource({
      id: readOptionalString(entry, 'id'),
      organizationId: readString(entry, 'organization'),
      resourceTypeSlug: readString(entry, 'type'),
      externalId: readString(entry, 'externalId'),
      name: readOptionalString(entry, 'name'),
      description: readOptionalString(entry, 'description'),
      parent: entry.parent === undefined ? undefined : readResourceRef(entry, 'parent'),
    });
  });
  eachEntry(source, 'assignments', (entry) => {
    draft.assignRole(readString(entry, 'membership'), readString(entry, 'role'), readResourceRef(entry, 'resource'));
  });
  eachEntry(source, 'groups', (entry) => {
    const record = draft.addGroup({
      id: readOptionalString(entry, 'id'),
      organizationId: readString(entry, 'organization'),
      name: readString(entry, 'name'),
      memberIds: readStrings(entry, 'members'),
    });
    changes.push({ kind: 'group', record });
  });
  eachEntry(source, 'groupAssignments', (entry) => {
    draft.assignGroupRole(
      readString(entry, 'group'),
      readString(entry, 'role'),
      entry.resource === undefined ? undefined : readResourceRef(entry, 'resource'),
    );
  });

  model.adopt(draft);
  return changes;
}
