// Writes to WorkOS FGA (register and remove resources, assign and remove roles): each within the
// `timeout` budget, idempotent, and invalidating what it changed before it resolves.
import type { AuthorizationResource, WorkOS } from '@workos-inc/node';
import { WorkOSRequestError } from './errors.js';
import type { InvalidationScope } from './invalidation.js';
import { checkTarget, validateResource, type ResourceRef } from './resource.js';
import { attributesOf, type CallSubject, type Telemetry } from './telemetry.js';
import { callWithinBudget, UpstreamRefusal } from './upstream.js';

export interface RegisterResourceInput {
  type: string;
  externalId: string;
  name: string;
  organizationId: string;
  /** The parent resource; without one, the organization is the parent. */
  parent?: ResourceRef;
  description?: string;
}

export interface RemoveResourceOptions {
  /** Remove its descendants and role assignments too (WorkOS refuses otherwise while it has any). */
  cascade?: boolean;
  /** The resource's organization: needed for a `{ type, externalId }` reference. */
  organizationId?: string;
}

export interface RoleAssignmentInput {
  membershipId: string;
  /** The role's slug. */
  role: string;
  resource: ResourceRef;
}

export interface ResourceWrites {
  /** Creates the resource; when (organization, type, externalId) already exists, returns that one. */
  register(input: RegisterResourceInput): Promise<AuthorizationResource>;
  /** Deletes the resource; a resource that does not exist resolves. */
  remove(resource: ResourceRef, options?: RemoveResourceOptions): Promise<void>;
}

export interface RoleWrites {
  /** Assigns the role on the resource; already assigned resolves. */
  assign(input: RoleAssignmentInput): Promise<void>;
  /** Removes the role from the resource; not assigned resolves. */
  remove(input: RoleAssignmentInput): Promise<void>;
}

export interface WritesContext {
  readonly client: WorkOS;
  readonly timeout: number;
  readonly telemetry: Telemetry;
  invalidate(scope: InvalidationScope): Promise<void>;
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`fga-guard: ${name} must be a non-empty string`);
  return value;
}

function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`fga-guard: ${what} takes an object`);
  return value as Record<string, unknown>;
}

/** What a write is, for its span. */
type WriteSubject = CallSubject & { readonly operation: string };

/** Runs a write within the budget, in a span: a refusal becomes WorkOSRequestError, unless `tolerated` says it means "already so". */
async function write<T>(
  telemetry: Telemetry,
  subject: WriteSubject,
  deadline: number,
  call: () => Promise<T>,
  tolerated?: (refusal: UpstreamRefusal) => boolean,
): Promise<T | undefined> {
  const { operation } = subject;
  try {
    return await telemetry.upstream('write', attributesOf(subject), (record) => callWithinBudget(deadline, call, undefined, record));
  } catch (error) {
    if (!(error instanceof UpstreamRefusal)) throw error;
    if (tolerated?.(error)) return undefined;
    throw new WorkOSRequestError(operation, error.status, error.code, error.message);
  }
}

const notFound = (refusal: UpstreamRefusal) => refusal.status === 404;
const conflict = (refusal: UpstreamRefusal) => refusal.status === 409;

function parentOption(parent: ResourceRef | undefined) {
  if (parent === undefined) return {};
  return 'id' in parent ? { parentResourceId: parent.id } : { parentResourceExternalId: parent.externalId, parentResourceTypeSlug: parent.type };
}

function roleInput(input: unknown, operation: string): RoleAssignmentInput {
  const { membershipId, role, resource } = requireObject(input, operation);
  requireString(membershipId, `${operation} membershipId`);
  requireString(role, `${operation} role`);
  validateResource(resource);
  return input as RoleAssignmentInput;
}

export function createWrites({ client, timeout, invalidate, telemetry }: WritesContext): { resources: ResourceWrites; roles: RoleWrites } {
  const resources: ResourceWrites = {
    async register(input) {
      const { type, externalId, name, organizationId, parent, description } = requireObject(input, 'resources.register()');
      requireString(type, 'resources.register() type');
      requireString(externalId, 'resources.register() externalId');
      requireString(name, 'resources.register() name');
      requireString(organizationId, 'resources.register() organizationId');
      if (parent !== undefined) validateResource(parent);
      if (description !== undefined && typeof description !== 'string') throw new TypeError('fga-guard: resources.register() description must be a string');
      const deadline = Date.now() + timeout;
      const lookup = { organizationId: organizationId as string, resourceTypeSlug: type as string, externalId: externalId as string };
      const subject = { operation: 'resources.register', organizationId: lookup.organizationId, resource: { type: lookup.resourceTypeSlug, externalId: lookup.externalId } };
      try {
        const created = await write(
          telemetry,
          subject,
          deadline,
          () =>
            client.authorization.createResource({
              ...lookup,
              name: name as string,
              ...(description === undefined ? {} : { description: description as string }),
              ...parentOption(parent as ResourceRef | undefined),
            }),
          conflict,
        );
        const resource = created ?? (await write(telemetry, subject, deadline, () => client.authorization.getResourceByExternalId(lookup)));
        if (resource === undefined) throw new WorkOSRequestError('resources.register', 404, 'entity_not_found', 'The resource was neither created nor found');
        await invalidate({ resource: { id: resource.id } });
        return resource;
      } finally {
        // Even when the outcome is unknown (a timeout): denials remembered while it did not exist,
        // and listings of its parent.
        await invalidate({ resource: { type: type as string, externalId: externalId as string } });
        if (parent !== undefined) await invalidate({ resource: parent as ResourceRef });
      }
    },

    async remove(ref, options = {}) {
      validateResource(ref);
      const { cascade, organizationId } = requireObject(options, 'resources.remove() options');
      if (cascade !== undefined && typeof cascade !== 'boolean') throw new TypeError('fga-guard: resources.remove() cascade must be a boolean');
      const cascadeDelete = cascade as boolean | undefined;
      const deadline = Date.now() + timeout;
      const subject = { operation: 'resources.remove', resource: ref };
      let owner: string;
      let removal: () => Promise<void>;
      if ('id' in ref) {
        const found = await write(telemetry, subject, deadline, () => client.authorization.getResource(ref.id), notFound);
        if (found === undefined) return;
        owner = found.organizationId;
        removal = () => client.authorization.deleteResource({ resourceId: ref.id, cascadeDelete });
      } else {
        owner = requireString(organizationId, 'resources.remove() of a { type, externalId } reference needs options.organizationId: it');
        removal = () =>
          client.authorization.deleteResourceByExternalId({ organizationId: owner, resourceTypeSlug: ref.type, externalId: ref.externalId, cascadeDelete });
      }
      try {
        await write(telemetry, subject, deadline, removal, notFound);
      } finally {
        // Its descendants and every assignment on them may have gone with it: the whole organization.
        await invalidate({ organizationId: owner });
      }
    },
  };

  /** A role assignment's write; "already so" (`tolerated`) resolves; the membership is invalidated whatever the outcome. */
  async function roleWrite(
    operation: 'roles.assign' | 'roles.remove',
    input: unknown,
    tolerated: (refusal: UpstreamRefusal) => boolean,
    call: (options: { organizationMembershipId: string; roleSlug: string } & ReturnType<typeof checkTarget>) => Promise<unknown>,
  ): Promise<void> {
    const { membershipId, role, resource } = roleInput(input, `${operation}()`);
    try {
      const subject = { operation, role, resource, membership: membershipId };
      await write(telemetry, subject, Date.now() + timeout, () => call({ organizationMembershipId: membershipId, roleSlug: role, ...checkTarget(resource) }), tolerated);
    } finally {
      await invalidate({ membershipId });
    }
  }

  const roles: RoleWrites = {
    assign: (input) => roleWrite('roles.assign', input, conflict, (options) => client.authorization.assignRole(options)),
    remove: (input) => roleWrite('roles.remove', input, notFound, (options) => client.authorization.removeRole(options)),
  };

  return { resources, roles };
}
