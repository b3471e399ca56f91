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
  /** The resource id is too long to exist. */
  | 'invalid_resource'
  /** WorkOS says no (or does not know the resource or membership). */
  | 'not_granted';

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
