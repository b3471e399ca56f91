import type { WorkOS } from '@workos-inc/node';
import { ServiceUnavailableError, type UnavailableReason } from './errors.js';
import { checkTarget, type ResourceRef } from './resource.js';
import type { CheckAnswer, UnknownTarget } from './decision.js';
import { diagnosticsOf } from './diagnostics.js';
import type { UpstreamCall } from './telemetry.js';

/** Retry-After (s) on a 503 when the upstream gave none. */
const DEFAULT_RETRY_AFTER_SECONDS = 2;
/** One retry of a transient failure at most, whatever Retry-After says; this long after a failure without one. */
const MAX_RETRIES = 1;
const BACKOFF_MS = 50;
/** Answers about the request itself (unknown membership or resource, bad input, a conflict): a denial, not an outage. */
const REFUSAL_STATUSES = new Set([400, 404, 409, 422]);

/** WorkOS refused the question (400/404/409/422): a check denies; a write reports it. */
export class UpstreamRefusal extends Error {
  constructor(
    readonly status: number,
    /** WorkOS's error code (e.g. `entity_not_found`), when it gave one. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

class DeadlineExceeded extends Error {}

type Failure =
  | { kind: 'refused'; status: number; code: string | undefined; message: string }
  | { kind: 'transient'; reason: UnavailableReason; retryAfterMs?: number }
  | { kind: 'fatal'; reason: UnavailableReason; status?: number };

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The SDK's error for a body that is not JSON; it keeps the status and headers as raw fields. */
interface ParseError {
  name: 'ParseError';
  rawStatus?: unknown;
  rawHeaders?: { get?: (name: string) => string | null };
}

function isParseError(error: unknown): error is ParseError {
  return (error as { name?: unknown } | null)?.name === 'ParseError';
}

/** The HTTP status of a failed call, when it got one (a ParseError keeps it raw). */
function httpStatusOf(error: unknown): number | undefined {
  const parseError = [error, (error as { cause?: unknown } | null)?.cause].find(isParseError);
  return typeof parseError?.rawStatus === 'number' ? parseError.rawStatus : statusOf(error);
}

/** 429 is retried only when WorkOS says when; without Retry-After the caller gets the 503. */
function rateLimited(retryAfter: unknown): Failure {
  return typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0
    ? { kind: 'transient', reason: 'rate_limited', retryAfterMs: retryAfter * 1000 }
    : { kind: 'fatal', reason: 'rate_limited' };
}

function refusal(error: unknown, status: number): Failure {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return {
    kind: 'refused',
    status,
    code: typeof code === 'string' ? code : undefined,
    message: typeof message === 'string' && message.length > 0 ? message : `WorkOS answered ${status}`,
  };
}

function classify(error: unknown): Failure {
  // A body that is not JSON; on an error status the SDK wraps the ParseError in a plain Error.
  const parseError = [error, (error as { cause?: unknown } | null)?.cause].find(isParseError);
  if (parseError) {
    // A proxy's HTML 429 page is still a rate limit, with its Retry-After.
    if (parseError.rawStatus !== 429) return { kind: 'transient', reason: 'malformed_response' };
    const header = typeof parseError.rawHeaders?.get === 'function' ? parseError.rawHeaders.get('Retry-After') : null;
    return rateLimited(header ? Number(header) : undefined);
  }
  const status = statusOf(error);
  // No HTTP status: a network error (the SDK wraps it).
  if (status === undefined) return { kind: 'transient', reason: 'upstream' };
  if (REFUSAL_STATUSES.has(status)) return refusal(error, status);
  if (status === 429) return rateLimited((error as { retryAfter?: unknown }).retryAfter);
  if (status === 408 || status >= 500) return { kind: 'transient', reason: 'upstream' };
  // 401/403 and the like: fga-guard's own API key or configuration is wrong. Fail closed.
  return { kind: 'fatal', reason: 'upstream', status };
}

function retryAfterSeconds(failure: Failure): number {
  if (failure.kind === 'transient' && failure.retryAfterMs !== undefined) {
    return Math.min(60, Math.max(1, Math.ceil(failure.retryAfterMs / 1000)));
  }
  return DEFAULT_RETRY_AFTER_SECONDS;
}

/** Settles with `promise`, or rejects at `deadline`; the loser's outcome is swallowed, never unhandled. */
function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceeded()), Math.max(0, deadline - Date.now()));
    unref(timer);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => unref(setTimeout(resolve, ms)));

/** Lets Node exit while the timer runs; on web-standard runtimes a timer is a number, with nothing to unref. */
function unref(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/**
 * Runs one WorkOS call so that it ends by `deadline`, retrying a transient failure once when the
 * budget allows. Throws UpstreamRefusal for a refusal, ServiceUnavailableError for the rest.
 * `record` (a traced call's) learns each failure's HTTP status and each retry.
 */
export async function callWithinBudget<T>(deadline: number, call: () => Promise<T>, client?: WorkOS, record?: UpstreamCall): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let failure: Failure;
    // Each attempt's own status (a success's comes from statusReportingFetch, when it can).
    if (record !== undefined) record.status = undefined;
    try {
      return await beforeDeadline(call(), deadline);
    } catch (error) {
      if (record !== undefined) record.status = httpStatusOf(error);
      // The SDK's own per-request timeout is the budget too, and its timer may fire first: a call
      // that failed once the deadline had passed ran out of time, whatever the SDK called it.
      if (error instanceof DeadlineExceeded || Date.now() >= deadline) {
        throw new ServiceUnavailableError(DEFAULT_RETRY_AFTER_SECONDS, 'timeout');
      }
      failure = classify(error);
    }
    if (failure.kind === 'refused') throw new UpstreamRefusal(failure.status, failure.code, failure.message);
    if (failure.kind === 'fatal' && (failure.status === 401 || failure.status === 403) && client !== undefined) {
      diagnosticsOf(client)?.apiKeyRefused(failure.status);
    }
    const pause = failure.kind === 'transient' && attempt < MAX_RETRIES ? (failure.retryAfterMs ?? BACKOFF_MS) : undefined;
    // A retry that cannot fit in the budget is not tried (nor waited for).
    if (pause === undefined || Date.now() + pause >= deadline) {
      throw new ServiceUnavailableError(retryAfterSeconds(failure), failure.reason);
    }
    await sleep(pause);
    if (record !== undefined) record.retries++;
  }
}

function malformed(): ServiceUnavailableError {
  return new ServiceUnavailableError(DEFAULT_RETRY_AFTER_SECONDS, 'malformed_response');
}

/** The active membership of the user in the organization, or false when there is none. */
export async function findActiveMembership(
  client: WorkOS,
  userId: string,
  organizationId: string,
  deadline: number,
  record?: UpstreamCall,
): Promise<string | false> {
  let page: unknown;
  try {
    page = await callWithinBudget(deadline, () =>
      client.userManagement.listOrganizationMemberships({ userId, organizationId, statuses: ['active'], limit: 1 }),
      client,
      record,
    );
  } catch (error) {
    if (error instanceof UpstreamRefusal) return false;
    throw error;
  }
  const data = (page as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw malformed();
  const membership = data[0] as Record<string, unknown> | undefined;
  if (membership === undefined) return false;
  if (typeof membership.id !== 'string' || membership.id.length === 0) throw malformed();
  // Trust only an answer about exactly this user in exactly this organization.
  const matches =
    membership.userId === userId && membership.organizationId === organizationId && membership.status === 'active';
  return matches ? membership.id : false;
}

/**
 * What a refused check (404/422) did not know. WorkOS answers these with a generic code
 * (`entity_not_found`), so its message says which: "Organization membership … not found",
 * "Permission … not found", "Unknown resource type …", "Resource … not found".
 */
export function unknownTarget(refusal: UpstreamRefusal): { reason: UnknownTarget; resourceType: boolean } {
  const { code = '', message } = refusal;
  if (/membership/i.test(code) || /^\W*(organization[ _])?membership\b/i.test(message)) return { reason: 'unknown_membership', resourceType: false };
  if (/permission/i.test(code) || /^\W*permission\b/i.test(message)) return { reason: 'unknown_permission', resourceType: false };
  return { reason: 'unknown_resource', resourceType: /resource[ _]type/i.test(code) || /resource[ _]type/i.test(message) };
}

/**
 * Asks `workos.authorization.check`. A refusal (404/422) is a denial whose answer says what WorkOS
 * did not know; an unknown permission slug or resource type is a configuration mistake, reported once.
 */
export async function checkPermission(
  client: WorkOS,
  organizationMembershipId: string,
  permissionSlug: string,
  resource: ResourceRef,
  deadline: number,
  record?: UpstreamCall,
): Promise<CheckAnswer> {
  let answer: unknown;
  try {
    answer = await callWithinBudget(
      deadline,
      () => client.authorization.check({ organizationMembershipId, permissionSlug, ...checkTarget(resource) }),
      client,
      record,
    );
  } catch (error) {
    if (!(error instanceof UpstreamRefusal)) throw error;
    const unknown = unknownTarget(error);
    if (unknown.reason === 'unknown_permission') diagnosticsOf(client)?.unknownPermission(permissionSlug);
    if (unknown.resourceType && 'type' in resource) diagnosticsOf(client)?.unknownResourceType(resource.type);
    return unknown.reason;
  }
  const authorized = (answer as { authorized?: unknown } | null)?.authorized;
  if (typeof authorized !== 'boolean') throw malformed();
  return authorized;
}

/** The organization a stored resource id belongs to, or false when WorkOS does not know the resource. */
export async function findResourceOrganization(client: WorkOS, resourceId: string, deadline: number, record?: UpstreamCall): Promise<string | false> {
  let resource: unknown;
  try {
    resource = await callWithinBudget(deadline, () => client.authorization.getResource(resourceId), client, record);
  } catch (error) {
    if (error instanceof UpstreamRefusal) return false;
    throw error;
  }
  const found = resource as { id?: unknown; organizationId?: unknown } | null;
  if (typeof found?.organizationId !== 'string' || found.organizationId.length === 0) throw malformed();
  // Trust only an answer about exactly this resource.
  return found.id === resourceId ? found.organizationId : false;
}

/** A resource as a listing gives it. */
export interface ListedResource {
  readonly id: string;
  readonly externalId: string;
  readonly type: string;
  readonly name: string;
  readonly parentId: string | null;
}

/** What a listing found, up to its bound; `complete: false` when more exist. */
export interface Listing {
  readonly resources: readonly ListedResource[];
  readonly complete: boolean;
}

/** A listing as a shared store gives it back: anything else is not used. */
export function isListing(value: unknown): value is Listing {
  const { resources, complete } = (typeof value === 'object' && value !== null ? value : {}) as Partial<Listing>;
  return (
    typeof complete === 'boolean' &&
    Array.isArray(resources) &&
    resources.every(
      (r: Partial<ListedResource> | null) =>
        typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.externalId === 'string' && typeof r.type === 'string' &&
        typeof r.name === 'string' && (r.parentId === null || typeof r.parentId === 'string'),
    )
  );
}

/** WorkOS's largest page. */
export const PAGE_SIZE = 100;

/** One page of a WorkOS list, as the SDK returns it. */
interface Page<T> {
  readonly data: readonly T[];
  readonly listMetadata?: { readonly after?: string | null };
}

/**
 * The items of a WorkOS list, page after page along its `after` cursor (the SDK's own
 * autoPagination waits 350 ms between pages). `complete: false` when a page could not be had
 * (`fetchPage` answered undefined); what came before it is kept.
 */
export async function everyPage<T>(
  fetchPage: (page: { limit: number; after?: string }) => Promise<Page<T> | undefined>,
): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  for (let after: string | undefined; ; ) {
    const page = await fetchPage(after === undefined ? { limit: PAGE_SIZE } : { limit: PAGE_SIZE, after });
    if (page === undefined) return { items, complete: false };
    items.push(...page.data);
    const next = page.listMetadata?.after;
    if (typeof next !== 'string' || next.length === 0 || page.data.length === 0) return { items, complete: true };
    after = next;
  }
}

function listedResource(item: unknown, organizationId: string): ListedResource | undefined {
  const resource = item as Record<string, unknown> | null;
  const { id, externalId, resourceTypeSlug, name, parentResourceId } = resource ?? {};
  if (typeof id !== 'string' || typeof externalId !== 'string' || typeof resourceTypeSlug !== 'string') throw malformed();
  if (parentResourceId !== null && parentResourceId !== undefined && typeof parentResourceId !== 'string') throw malformed();
  // Trust only resources of exactly the caller's organization.
  if (resource?.organizationId !== organizationId) return undefined;
  return { id, externalId, type: resourceTypeSlug, name: typeof name === 'string' ? name : '', parentId: parentResourceId ?? null };
}

/**
 * Every page of a listing (each call within the budget), up to `maxResults` resources of
 * `organizationId`. A refusal (an unknown membership or parent) is an empty listing.
 */
export async function listAllPages(
  deadline: number,
  maxResults: number,
  organizationId: string,
  fetchPage: (page: { limit: number; after?: string }) => Promise<unknown>,
  record?: UpstreamCall,
): Promise<Listing> {
  const resources: ListedResource[] = [];
  let after: string | undefined;
  for (;;) {
    let page: unknown;
    try {
      page = await callWithinBudget(deadline, () => fetchPage(after === undefined ? { limit: PAGE_SIZE } : { limit: PAGE_SIZE, after }), undefined, record);
    } catch (error) {
      if (error instanceof UpstreamRefusal) return { resources, complete: true };
      throw error;
    }
    const { data, listMetadata } = (page ?? {}) as { data?: unknown; listMetadata?: { after?: unknown } };
    if (!Array.isArray(data)) throw malformed();
    for (const item of data) {
      const resource = listedResource(item, organizationId);
      if (resource === undefined) continue;
      if (resources.length === maxResults) return { resources, complete: false };
      resources.push(resource);
    }
    const next = listMetadata?.after;
    if (typeof next !== 'string' || next.length === 0) return { resources, complete: true };
    if (resources.length === maxResults) return { resources, complete: false };
    after = next;
  }
}
