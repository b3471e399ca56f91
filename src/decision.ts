import type { ResourceRef } from './resource.js';

/** Where the answer came from: the token's own claims, the decision cache, or the WorkOS API. */
export type DecisionSource = 'token' | 'cache' | 'api';

export type DenialReason =
  /** The token does not hold the permission and the route names no resource. */
  | 'no_resource'
  /** The token names no organization, so no membership can be checked. */
  | 'no_organization'
  /** No active membership of the user in the token's organization. */
  | 'no_membership'
  /** A machine caller whose token lacks the permission, and `machines.membership` maps it to no membership. */
  | 'machine_without_membership'
  /** The resource id is too long to exist. */
  | 'invalid_resource'
  /** WorkOS says no. */
  | 'not_granted'
  /** WorkOS does not know the resource (or its resource type): 404/422 on the check. */
  | 'unknown_resource'
  /** WorkOS does not know the organization membership the check ran for. */
  | 'unknown_membership'
  /** WorkOS does not know the permission slug: a typo, or a permission not created in this environment. */
  | 'unknown_permission';

/** What WorkOS refused a check about (404/422): the denial's reason. */
export type UnknownTarget = 'unknown_resource' | 'unknown_membership' | 'unknown_permission';

/** A check's answer as remembered: granted, not granted, or refused because WorkOS does not know something. */
export type CheckAnswer = boolean | UnknownTarget;

const UNKNOWN_TARGETS: ReadonlySet<unknown> = new Set<UnknownTarget>(['unknown_resource', 'unknown_membership', 'unknown_permission']);

/** A check's answer as a shared store gives it back: anything else is not used. */
export const isCheckAnswer = (value: unknown): value is CheckAnswer => typeof value === 'boolean' || UNKNOWN_TARGETS.has(value);

export interface Decision {
  readonly allowed: boolean;
  readonly source: DecisionSource;
  readonly permission: string;
  readonly resource?: ResourceRef;
  readonly userId: string;
  readonly organizationId?: string;
  /** The organization membership the check ran for. */
  readonly membership?: string;
  readonly reason?: DenialReason;
  /** ms from the start of the decision. */
  readonly latency: number;
}

/** Resolves the resource a request is about; null/undefined means "none" (token permissions only). */
export type ResourceResolver<Context> = (
  context: Context,
) => ResourceRef | null | undefined | Promise<ResourceRef | null | undefined>;

export function assertPermission(permission: unknown): asserts permission is string {
  if (typeof permission !== 'string' || permission.length === 0) {
    throw new TypeError('fga-guard: permission must be a non-empty string such as "project:edit"');
  }
}

/**
 * 'cached' (default): remembered decisions and membership lookups answer when they can.
 * 'fresh': they are skipped and WorkOS is asked (identical calls in flight still share one; the
 * answer is remembered for others).
 */
export type Consistency = 'cached' | 'fresh';

export interface CheckOptions {
  consistency?: Consistency;
}

export function assertConsistency(consistency: unknown): asserts consistency is Consistency | undefined {
  if (consistency !== undefined && consistency !== 'cached' && consistency !== 'fresh') {
    throw new TypeError("fga-guard: consistency must be 'cached' or 'fresh'");
  }
}

/** Whether the options ask for a fresh read; TypeError for options that are not options. */
export function isFresh(options: CheckOptions | undefined): boolean {
  if (options === undefined) return false;
  if (typeof options !== 'object' || options === null) throw new TypeError('fga-guard: options must be an object such as { consistency }');
  assertConsistency(options.consistency);
  return options.consistency === 'fresh';
}
