import type { FgaModel, GroupRecord, MembershipRecord, PermissionRecord, RoleRecord } from './model.js';
import type { SeedChange } from './seed.js';
import { serializeSession, type SessionRecord } from './sessions.js';
import {
  crockford,
  invalidParameter,
  randomCrockford,
  serializeGroup,
  serializeMembershipEvent,
  serializeOrganization,
  serializeOrganizationRoleEvent,
  serializePermission,
  serializeRoleEvent,
  serializeUser,
} from './wire.js';

/** An event as WorkOS sends it, from the Events API and in webhook bodies. */
export interface WorkOSEventWire {
  object: 'event';
  /** `event_` + a ULID-like id; ids increase in the order events were recorded. */
  id: string;
  /** The event type, e.g. `organization_membership.updated`. */
  event: string;
  /** The changed object, snake_case, as WorkOS puts it in that event type. */
  data: Record<string, unknown>;
  /** ISO 8601. */
  created_at: string;
}

type Change = 'created' | 'updated' | 'deleted';

const DEFAULT_PAGE_SIZE = 10;
const MAX_PAGE_SIZE = 100;

/** The organization an event is about, for the `organization_id` filter. */
function organizationOf(event: WorkOSEventWire): unknown {
  return event.event.startsWith('organization.') ? event.data.id : event.data.organization_id;
}

function readTime(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw invalidParameter(name, 'invalid', `${name} must be an ISO 8601 date.`);
  return time;
}

/** Every event the kit recorded since it started, in order, and the Events API over them. */
export class EventLog {
  private readonly recorded: WorkOSEventWire[] = [];
  private readonly instance = randomCrockford(8);
  private lastTime = 0;
  private count = 0;

  constructor(private readonly model: FgaModel) {}

  all(): readonly WorkOSEventWire[] {
    return this.recorded;
  }

  record(event: string, data: Record<string, unknown>): WorkOSEventWire {
    const now = Date.now();
    // Time never goes back and the counter comes before the random part, so ids sort in recording order.
    this.lastTime = Math.max(this.lastTime, now);
    const id = `event_${crockford(this.lastTime, 10)}${crockford(this.count++, 8)}${this.instance}`;
    const entry: WorkOSEventWire = { object: 'event', id, event, data, created_at: new Date(now).toISOString() };
    this.recorded.push(entry);
    return entry;
  }

  membership(change: Change, membership: MembershipRecord): WorkOSEventWire {
    const organizationName = this.model.getOrganization(membership.organizationId).name;
    return this.record(`organization_membership.${change}`, serializeMembershipEvent(membership, organizationName));
  }

  /** `role.*` for an environment role, `organization_role.*` for an organization role. */
  role(change: Change, role: RoleRecord): WorkOSEventWire {
    const { organizationId } = role;
    return organizationId === null
      ? this.record(`role.${change}`, serializeRoleEvent(role))
      : this.record(`organization_role.${change}`, serializeOrganizationRoleEvent({ ...role, organizationId }));
  }

  permission(change: Change, permission: PermissionRecord): WorkOSEventWire {
    return this.record(`permission.${change}`, serializePermission(permission));
  }

  groupMember(change: 'added' | 'removed', group: GroupRecord, membershipId: string): WorkOSEventWire {
    return this.record(`group.member_${change}`, { group_id: group.id, organization_membership_id: membershipId });
  }

  sessionRevoked(session: SessionRecord): WorkOSEventWire {
    return this.record('session.revoked', serializeSession(session));
  }

  /** What WorkOS would send for something a run-time seed created (resource types, resources and assignments: nothing). */
  created(change: SeedChange): void {
    switch (change.kind) {
      case 'organization':
        this.record('organization.created', serializeOrganization(change.record));
        break;
      case 'user':
        this.record('user.created', serializeUser(change.record));
        break;
      case 'permission':
        this.permission('created', change.record);
        break;
      case 'role':
        this.role('created', change.record);
        break;
      case 'membership':
        this.membership('created', change.record);
        break;
      case 'group':
        this.record('group.created', serializeGroup(change.record));
        change.record.memberIds.forEach((membershipId) => this.groupMember('added', change.record, membershipId));
        break;
    }
  }

  /**
   * `GET /events`: `events` (comma-separated as the SDK sends it, repeated, or `events[]`), `organization_id`,
   * `after` (an event id) or `range_start`, `range_end`, `limit`. Always oldest first: WorkOS ignores
   * `order` (workos/workos-node#1610), so the kit accepts and ignores it too.
   */
  list(query: URLSearchParams) {
    const types = new Set(
      [...query.getAll('events'), ...query.getAll('events[]')].flatMap((value) => value.split(',').map((type) => type.trim())).filter(Boolean),
    );
    const organizationId = query.get('organization_id') || undefined;
    const after = query.get('after') || undefined;
    const rangeStart = readTime(query, 'range_start');
    const rangeEnd = readTime(query, 'range_end');
    if (after !== undefined && rangeStart !== undefined) {
      throw invalidParameter('after', 'invalid', 'after and range_start cannot be used together.');
    }
    if (after !== undefined && !after.startsWith('event_')) throw invalidParameter('after', 'invalid', 'after must be an event id.');
    const limitValue = query.get('limit');
    const limit = limitValue === null || limitValue === '' ? DEFAULT_PAGE_SIZE : Number(limitValue);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw invalidParameter('limit', 'invalid', `limit must be an integer between 1 and ${MAX_PAGE_SIZE}.`);
    }
    const order = query.get('order');
    if (order !== null && order !== '' && !['asc', 'desc', 'normal'].includes(order)) {
      throw invalidParameter('order', 'invalid', 'order must be asc, desc or normal.');
    }

    const page = this.recorded
      .filter((event) => {
        const time = Date.parse(event.created_at);
        return (
          (types.size === 0 || types.has(event.event)) &&
          (organizationId === undefined || organizationOf(event) === organizationId) &&
          // Ids sort in recording order: the events after a cursor are those with greater ids.
          (after === undefined || event.id > after) &&
          (rangeStart === undefined || time >= rangeStart) &&
          (rangeEnd === undefined || time <= rangeEnd)
        );
      })
      .slice(0, limit);
    return { object: 'list', data: page, list_metadata: { after: page.at(-1)?.id ?? null } };
  }
}
