// Several decisions for one principal: checkMany, and the any/all requirements of the guards.
import { assertPermission, type CheckOptions, type Decision } from './decision.js';
import { cacheKey, validateResource, type ResourceRef } from './resource.js';
import { isPromiseLike, type Settling } from './settling.js';

/** One entry of `checkMany`: a permission, on a resource or (without one) from the token alone. */
export interface CheckRequest {
  readonly permission: string;
  readonly resource?: ResourceRef | null;
}

export interface CheckManyOptions extends CheckOptions {
  /** Upstream decisions in flight at once, at most (default 8). */
  concurrency?: number;
}

export const DEFAULT_CONCURRENCY = 8;

/** One decision of the batch, for the permission on the resource (already resolved). */
export type DecideOne = (permission: string, resource: ResourceRef | null | undefined) => Settling<Decision>;

/** Checks the whole batch before anything is asked: bad input fails the call, never one entry. */
export function assertChecks(checks: unknown, options: CheckManyOptions | undefined): asserts checks is readonly CheckRequest[] {
  if (!Array.isArray(checks)) throw new TypeError('fga-guard: checkMany takes an array of { permission, resource? }');
  let validated: unknown;
  for (const entry of checks as unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw new TypeError('fga-guard: each check must be { permission, resource? }');
    const { permission, resource } = entry as Partial<CheckRequest>;
    assertPermission(permission);
    // Entries about one resource often share the object: it is checked once.
    if (resource !== undefined && resource !== null && resource !== validated) validateResource((validated = resource));
  }
  assertConcurrency(options?.concurrency);
}

export function assertConcurrency(concurrency: unknown): void {
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || (concurrency as number) < 1)) {
    throw new TypeError('fga-guard: concurrency must be a positive integer');
  }
}

export function assertPermissionList(permissions: unknown): asserts permissions is readonly string[] {
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw new TypeError('fga-guard: permissions must be a non-empty array of permission slugs');
  }
  for (const permission of permissions as unknown[]) assertPermission(permission);
}

/** Whether two references name the same resource the same way. */
export function sameResource(a: ResourceRef | null | undefined, b: ResourceRef | null | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? undefined) === (b ?? undefined);
  if ('id' in a) return 'id' in b && a.id === b.id;
  return !('id' in b) && a.type === b.type && a.externalId === b.externalId;
}

const sameCheck = (a: CheckRequest, b: CheckRequest) => a.permission === b.permission && sameResource(a.resource, b.resource);

/**
 * The decisions of `checks`, in input order: identical entries share one decision, and at most
 * `concurrency` are being decided at once. The first entry that cannot be decided fails the call
 * (nothing partial), and no entry is started after it. Entries are decided in order while each
 * answers at once (the token, the cache): a warm batch settles synchronously.
 */
export function decideMany(checks: readonly CheckRequest[], concurrency: number, decideOne: DecideOne): Settling<Decision[]> {
  // Most batches repeat nothing: then the entries are decided as given, with nothing to map back.
  const { unique, slots } = allDistinct(checks) ? { unique: checks, slots: undefined } : distinct(checks);
  const decisions: Decision[] = [];
  for (let index = 0; index < unique.length; index++) {
    const { permission, resource } = unique[index] as CheckRequest;
    const decision = decideOne(permission, resource);
    if (isPromiseLike(decision)) return decideRest(unique, index, decision, concurrency, decideOne, decisions).then(() => inOrder(slots, decisions));
    decisions.push(decision);
  }
  return inOrder(slots, decisions);
}

/** Batches up to this size are compared pairwise; larger ones by keys. */
const SCAN_LIMIT = 16;

const checkKey = ({ permission, resource }: CheckRequest) =>
  resource === undefined || resource === null
    ? cacheKey(permission)
    : 'id' in resource
      ? cacheKey(permission, 'id', resource.id)
      : cacheKey(permission, 'ext', resource.type, resource.externalId);

function allDistinct(checks: readonly CheckRequest[]): boolean {
  if (checks.length > SCAN_LIMIT) return new Set(checks.map(checkKey)).size === checks.length;
  for (let later = 1; later < checks.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) if (sameCheck(checks[earlier] as CheckRequest, checks[later] as CheckRequest)) return false;
  }
  return true;
}

/** The distinct entries, and which of them each entry is. */
function distinct(checks: readonly CheckRequest[]): { unique: readonly CheckRequest[]; slots: number[] } {
  const unique: CheckRequest[] = [];
  const slots: number[] = [];
  const byKey = new Map<string, number>();
  for (const check of checks) {
    const key = checkKey(check);
    let slot = byKey.get(key);
    if (slot === undefined) {
      slot = unique.push(check) - 1;
      byKey.set(key, slot);
    }
    slots.push(slot);
  }
  return { unique, slots };
}

function inOrder(slots: readonly number[] | undefined, decisions: Decision[]): Decision[] {
  if (slots === undefined) return decisions;
  const ordered: Decision[] = [];
  for (const slot of slots) ordered.push(decisions[slot] as Decision);
  return ordered;
}

/** The entries from `first` on, `first` already in flight: at most `concurrency` at a time. */
async function decideRest(
  unique: readonly CheckRequest[],
  first: number,
  pending: PromiseLike<Decision>,
  concurrency: number,
  decideOne: DecideOne,
  decisions: Decision[],
): Promise<void> {
  let next = first + 1;
  let failed = false;
  async function worker(started?: PromiseLike<Decision>, at = first): Promise<void> {
    try {
      if (started) decisions[at] = await started;
      while (!failed && next < unique.length) {
        const index = next++;
        const { permission, resource } = unique[index] as CheckRequest;
        decisions[index] = await decideOne(permission, resource);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  }
  const others = Math.max(0, Math.min(concurrency - 1, unique.length - next));
  await Promise.all([worker(pending), ...Array.from({ length: others }, () => worker())]);
}

/**
 * "Any of these permissions": the ones the token holds are tried first (they need no call), then
 * the rest in the given order, until one is granted. The grant, else the first denial.
 */
export function decideAny(permissions: readonly string[], heldByToken: readonly string[], decide: (permission: string) => Settling<Decision>): Settling<Decision> {
  const order = [...permissions.filter((p) => heldByToken.includes(p)), ...permissions.filter((p) => !heldByToken.includes(p))];
  return firstGranted(order, 0, decide, undefined);
}

function firstGranted(
  order: readonly string[],
  from: number,
  decide: (permission: string) => Settling<Decision>,
  firstDenial: Decision | undefined,
): Settling<Decision> {
  for (let index = from; index < order.length; index++) {
    const decision = decide(order[index] as string);
    if (isPromiseLike(decision)) {
      return decision.then((settled) => (settled.allowed ? settled : firstGranted(order, index + 1, decide, firstDenial ?? settled)));
    }
    if (decision.allowed) return decision;
    firstDenial ??= decision;
  }
  return firstDenial as Decision;
}

/** "All of these permissions": every decision, then the first denial in the given order, else the last grant. */
export function decideAll(decisions: readonly Decision[]): Decision {
  return decisions.find((decision) => !decision.allowed) ?? (decisions[decisions.length - 1] as Decision);
}
