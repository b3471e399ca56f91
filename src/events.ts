// WorkOS events → what they make stale; the Events API poller; webhook deliveries (verified by the SDK).
import type { WorkOS } from '@workos-inc/node';
import { WebhookError } from './errors.js';
import { PAGE_SIZE } from './upstream.js';
import type { InvalidationScope } from './invalidation.js';

/** A WorkOS event as the SDK gives it (`webhooks.constructEvent`, `events.listEvents`); wire (snake_case) data is read too. */
export interface WorkOSEvent {
  readonly event: string;
  readonly data?: unknown;
  readonly id?: string;
}

export interface FollowEventsOptions {
  /** ms between polls when there is nothing new (default 5 000). */
  intervalMs?: number;
  /** Start after this event id; by default, at the moment `followEvents` is called. */
  after?: string;
  /** Told of each failed poll (the poller backs off and goes on); default: nothing. */
  onError?: (error: unknown) => void;
}

export interface WebhookOptions {
  /** The endpoint's secret from the WorkOS dashboard. */
  secret: string;
  /** How old a delivery's signature may be, ms (default: the SDK's, 180 000). */
  tolerance?: number;
}

export function assertWebhookOptions(options: unknown): asserts options is WebhookOptions {
  const { secret, tolerance } = (typeof options === 'object' && options !== null ? options : {}) as Partial<WebhookOptions>;
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError("fga-guard: workosWebhook needs { secret } (the endpoint's secret from the WorkOS dashboard)");
  if (tolerance !== undefined && (!Number.isInteger(tolerance) || tolerance < 1)) throw new TypeError('fga-guard: workosWebhook tolerance must be a positive integer (ms)');
}

export interface EventFollower {
  /** Stops polling; an event being applied is finished. */
  stop(): void;
}

type Effect = { scope: InvalidationScope } | { everything: true } | { session: string } | undefined;

/** A string field of the event's data, in the SDK's spelling or the wire's. */
function field(data: unknown, camel: string, snake: string): string | undefined {
  const record = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const value = record[camel] ?? record[snake];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const ofMembership = (data: unknown): Effect => {
  // The user too: a membership that becomes active again is found by a lookup of its user.
  const membershipId = field(data, 'id', 'id');
  const userId = field(data, 'userId', 'user_id');
  return membershipId === undefined ? undefined : { scope: userId === undefined ? { membershipId } : { membershipId, userId } };
};
const ofGroupMember = (data: unknown): Effect => {
  const membershipId = field(data, 'organizationMembershipId', 'organization_membership_id');
  return membershipId === undefined ? undefined : { scope: { membershipId } };
};
const ofOrganizationRole = (data: unknown): Effect => {
  const organizationId = field(data, 'organizationId', 'organization_id');
  return organizationId === undefined ? { everything: true } : { scope: { organizationId } };
};
// Environment roles and permissions hold in every organization.
const everywhere = (): Effect => ({ everything: true });

/** What each event that changes what fga-guard remembers makes stale; `followEvents` asks for exactly these. */
const EFFECTS = {
  // A user who had no membership (remembered as "none") now has one.
  'organization_membership.created': (data) => {
    const userId = field(data, 'userId', 'user_id');
    return userId === undefined ? undefined : { scope: { userId } };
  },
  'organization_membership.updated': ofMembership,
  'organization_membership.deleted': ofMembership,
  'group.member_added': ofGroupMember,
  'group.member_removed': ofGroupMember,
  'role.created': everywhere,
  'role.updated': everywhere,
  'role.deleted': everywhere,
  'organization_role.created': ofOrganizationRole,
  'organization_role.updated': ofOrganizationRole,
  'organization_role.deleted': ofOrganizationRole,
  'permission.created': everywhere,
  'permission.updated': everywhere,
  'permission.deleted': everywhere,
  'organization.deleted': (data) => {
    const id = field(data, 'id', 'id');
    return id === undefined ? undefined : { scope: { organizationId: id } };
  },
  'session.revoked': (data) => {
    const id = field(data, 'id', 'id');
    return id === undefined ? undefined : { session: id };
  },
} satisfies Record<string, (data: unknown) => Effect>;

type RelevantEvent = keyof typeof EFFECTS;

/** The events that change what fga-guard remembers. */
export const RELEVANT_EVENTS = Object.freeze(Object.keys(EFFECTS) as RelevantEvent[]);

/** What an event makes stale. Unknown events, and known ones without the ids they need, change nothing. */
export function effectOf(event: WorkOSEvent): Effect {
  return Object.hasOwn(EFFECTS, event.event) ? EFFECTS[event.event as RelevantEvent](event.data) : undefined;
}

export interface EventsContext {
  readonly client: WorkOS;
  invalidate(scope: InvalidationScope): Promise<void>;
  invalidateAll(): Promise<void>;
  revokeSession(sessionId: string): void;
}

const DEFAULT_INTERVAL_MS = 5_000;
const MAX_BACKOFF_MS = 60_000;

/** Lets the process exit while only a poll timer is pending (where timers can be unref'd). */
function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}

export function createEvents(context: EventsContext) {
  async function apply(event: WorkOSEvent): Promise<void> {
    if (typeof event !== 'object' || event === null || typeof event.event !== 'string') {
      throw new TypeError('fga-guard: applyEvent() takes a WorkOS event ({ event, data })');
    }
    const effect = effectOf(event);
    if (effect === undefined) return;
    if ('scope' in effect) await context.invalidate(effect.scope);
    else if ('everything' in effect) await context.invalidateAll();
    else context.revokeSession(effect.session);
  }

  async function receiveWebhook(rawBody: string | Uint8Array, signature: string | undefined, { secret, tolerance }: WebhookOptions): Promise<void> {
    if (typeof signature !== 'string' || signature.length === 0) throw new WebhookError('The WorkOS-Signature header is missing');
    if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) throw new WebhookError('The webhook body must be JSON');
    let event: WorkOSEvent;
    try {
      const delivery = { payload: rawBody, sigHeader: signature, secret, ...(tolerance === undefined ? {} : { tolerance }) };
      event = (await context.client.webhooks.constructEvent(delivery)) as WorkOSEvent;
    } catch {
      // A bad or stale signature, or a body that is not JSON: the SDK's message is not passed on.
      throw new WebhookError('The webhook signature does not verify');
    }
    await apply(event);
  }

  function follow(options: FollowEventsOptions = {}): EventFollower {
    if (typeof options !== 'object' || options === null) throw new TypeError('fga-guard: followEvents() takes { intervalMs?, after?, onError? }');
    const { intervalMs = DEFAULT_INTERVAL_MS, after, onError } = options;
    if (!Number.isInteger(intervalMs) || intervalMs < 1) throw new TypeError('fga-guard: followEvents() intervalMs must be a positive integer');
    if (after !== undefined && (typeof after !== 'string' || after.length === 0)) throw new TypeError('fga-guard: followEvents() after must be an event id');
    if (onError !== undefined && typeof onError !== 'function') throw new TypeError('fga-guard: followEvents() onError must be a function');

    let cursor = after;
    // Without a cursor, events from now on (the API keeps 90 days of them).
    const rangeStart = cursor === undefined ? new Date().toISOString() : undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;

    async function poll(): Promise<number> {
      for (;;) {
        const page = await context.client.events.listEvents({
          events: [...RELEVANT_EVENTS],
          limit: PAGE_SIZE,
          ...(cursor === undefined ? { rangeStart } : { after: cursor }),
        });
        const data = (page as { data?: unknown } | null)?.data;
        if (!Array.isArray(data)) throw new TypeError('fga-guard: the Events API answered without a list');
        for (const event of data as WorkOSEvent[]) {
          if (stopped) return 0;
          await apply(event);
          if (typeof event.id === 'string') cursor = event.id;
        }
        if (data.length < PAGE_SIZE) return intervalMs;
      }
    }

    function schedule(delay: number): void {
      if (stopped) return;
      timer = setTimeout(() => {
        poll().then(
          (next) => {
            failures = 0;
            schedule(next);
          },
          (error: unknown) => {
            failures += 1;
            try {
              onError?.(error);
            } catch {
              // An observer must not stop the poller.
            }
            schedule(Math.min(MAX_BACKOFF_MS, intervalMs * 2 ** failures));
          },
        );
      }, delay);
      unref(timer);
    }

    schedule(0);
    return {
      stop() {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
      },
    };
  }

  return { apply, receiveWebhook, follow };
}
