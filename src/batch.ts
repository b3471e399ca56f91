// Several decisions for one principal: checkMany, and the any/all requirements of the guards.
import { assertPermission, type Decision } from './decision.js';
import { cacheKey, validateResource, type ResourceRef } from './resource.js';
import { isPromiseLike, type Settling } from './settling.js';

/** One entry of `checkMany`: a permission, on a resource or (without one) from the token alone. */
export interface CheckRequest {
  readonly permission: string;
  readonly resource?: ResourceRef | null;
}

export interface CheckManyOptions {
  /** Upstream decisions in flight at once, at most (default 8). */
  concurrency?: number;
}

export const DEFAULT_CONCURRENCY = 8;

/** One decision of the batch, for the permission on the resource (already resolved). */
export type DecideOne = (permission: string, resource: ResourceRef | null | undefined) => Settling<Decision>;

/** Checks the whole batch before anything is asked: bad input fails the call, never one entry. */
export function assertChecks(checks: unknown, options: CheckManyOptions | undefined): asserts checks is readonly CheckRequest[] {
  if (!Array.isArray(checks)) throw new TypeError('fga-guard: checkMany takes an array of { permission, resource? }');
  for (const entry of checks as unknown[]) {
    if (typeof entry !== 'object' || entry === null) throw new TypeError('fga-guard: each check must be { permission, resource? }');
    const { permission, resource } = entry as Partial<CheckRequest>;
    assertPermission(permission);
    if (resource !== undefined && resource !== null) validateResource(resource);
  }
  const concurrency = options?.concurrency;
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
    throw new TypeError('fga-guard: concurrency must be a positive integer');
  }
}

export function assertPermissionList(permissions: unknown): asserts permissions is readonly string[] {
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw new TypeError('fga-guard: permissions must be a non-empty array of permission slugs');
  }
  for (const permission of permissions as unknown[]) assertPermission(permission);
}

function checkKey({ permission, resource }: CheckRequest): string {
  if (resource === undefined || resource === null) return cacheKey(permission);
  return 'id' in resource ? cacheKey(permission, resource.id) : cacheKey(permission, resource.type, resource.externalId);
}

/**
 * The decisions of `checks`, in input order: identical entries share one decision, and at most
 * `concurrency` are being decided at once. The first entry that cannot be decided fails the call
 * (nothing partial), and no entry is started after it. Entries are decided in order while each
 * answers at once (the token, the cache): a warm batch settles synchronously.
 */
export function decideMany(checks: readonly CheckRequest[], concurrency: number, decideOne: DecideOne): Settling<Decision[]> {
  const slotOf = new Map<string, number>();
  const unique: CheckRequest[] = [];
  const slots = checks.map((check) => {
    const key = checkKey(check);
    let slot = slotOf.get(key);
    if (slot === undefined) {
      slot = unique.length;
      slotOf.set(key, slot);
      unique.push(check);
    }
    return slot;
  });
  const decisions: Decision[] = new Array<Decision>(unique.length);
  const inOrder = () => slots.map((slot) => decisions[slot] as Decision);

  let index = 0;
  let pending: PromiseLike<Decision> | undefined;
  for (; index < unique.length; index++) {
    const { permission, resource } = unique[index] as CheckRequest;
    const decision = decideOne(permission, resource);
    if (isPromiseLike(decision)) {
      pending = decision;
      break;
    }
    decisions[index] = decision;
  }
  if (pending === undefined) return inOrder();

  // The first entry that has to wait is in flight: the rest follow it, `concurrency` at a time.
  let next = index + 1;
  let failed = false;
  async function worker(first?: { index: number; decision: PromiseLike<Decision> }): Promise<void> {
    try {
      if (first) decisions[first.index] = await first.decision;
      while (!failed && next < unique.length) {
        const at = next++;
        const { permission, resource } = unique[at] as CheckRequest;
        decisions[at] = await decideOne(permission, resource);
      }
    } catch (error) {
      failed = true;
      throw error;
    }
  }
  const others = Math.max(0, Math.min(concurrency - 1, unique.length - next));
  const workers = [worker({ index, decision: pending }), ...Array.from({ length: others }, () => worker())];
  return Promise.all(workers).then(inOrder);
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
