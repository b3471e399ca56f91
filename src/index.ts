export { createAuthorizer, type AuthorizedRequest, type Authorizer, type CacheStats } from './authorizer.js';
export type { CheckManyOptions, CheckRequest } from './batch.js';
export type { EventFollower, FollowEventsOptions, WebhookOptions, WorkOSEvent } from './events.js';
export type { InvalidationScope, ScopeKeys } from './invalidation.js';
export type { DecisionStore, StoreKey, StoreRead, StoreStamp, StoreStats, StoredValue } from './store.js';
export type { RegisterResourceInput, RemoveResourceOptions, ResourceWrites, RoleAssignmentInput, RoleWrites } from './writes.js';
export type { AuthorizerOptions, CacheOptions } from './config.js';
export type { TelemetryOptions } from './telemetry.js';
export type { AccessibleList, AccessibleResource, FilterAccessibleOptions, ListAccessibleOptions } from './discovery.js';
export type { ClaimNames, Principal, PrincipalKind } from './claims.js';
export type { MachineMembership, MachineOptions } from './machines.js';
export type { CheckOptions, Consistency, Decision, DecisionSource, DenialReason, ResourceResolver, UnknownTarget } from './decision.js';
export type { ResourceRef } from './resource.js';
export {
  FgaGuardError,
  ForbiddenError,
  InvalidRequestError,
  InvalidTokenError,
  ServiceUnavailableError,
  UnauthorizedError,
  WebhookError,
  WorkOSRequestError,
  isFgaGuardError,
  toErrorResponse,
  type ErrorResponse,
  type UnavailableReason,
} from './errors.js';
export type { AnySlugs, Slugs } from './slugs.js';
export type { Diagnostic, DiagnosticCode, Logger } from './diagnostics.js';
export type { PreflightCheck, PreflightCheckName, PreflightReport } from './preflight.js';
export type { ExplainedAssignment, ExplainedResource, Explanation } from './explain.js';
