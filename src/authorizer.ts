import { assertChecks, decideAll, decideAny, decideMany, DEFAULT_CONCURRENCY, sameResource, type CheckManyOptions, type CheckRequest } from './batch.js';
import { CoalescingCache } from './cache.js';
import { createDiscovery, type AccessibleList, type FilterAccessibleOptions, type ListAccessibleOptions } from './discovery.js';
import type { Principal } from './claims.js';
import { DEFAULT_CACHE, resolveConfig, type AuthorizerOptions, type ResolvedConfig } from './config.js';
import { DecisionCache, type AnswerGroup } from './decision-cache.js';
import { assertPermission, isFresh, type CheckAnswer, type CheckOptions, type Decision, type DenialReason, type ResourceResolver } from './decision.js';
import { ForbiddenError } from './errors.js';
import { createEvents, type EventFollower, type FollowEventsOptions, type WebhookOptions, type WorkOSEvent } from './events.js';
import {
  Generations,
  membershipScope,
  organizationScope,
  resourceScope,
  scopeKeysOf,
  userScope,
  type InvalidationScope,
  type ScopeKeys,
} from './invalidation.js';
import { cacheKey, validateResource, type ResourceRef } from './resource.js';
import type { StoreStats } from './store.js';
import { createWrites, type ResourceWrites, type RoleWrites } from './writes.js';
import { assertSingleToken, bearerCredentials, TokenVerifier } from './token.js';
import { isPromiseLike, type Settling } from './settling.js';
import { checkPermission, findActiveMembership, findResourceOrganization, isListing, type Listing } from './upstream.js';
import type { AnySlugs, Slugs } from './slugs.js';
import { runPreflight, type PreflightReport } from './preflight.js';
import { explainDecision, type Explanation } from './explain.js';
import { machineMembership } from './machines.js';
import { attributesOf } from './telemetry.js';

/** Node's global `performance` is an accessor that calls a getter on every read: read it once. */
const clock = performance;

/** Carries an authorizer's slug types (nothing at run time). */
declare const slugTypes: unique symbol;

/** A resource of one of the environment's resource types. */
type TypedResourceRef<S extends Slugs> = ResourceRef<S['resourceTypes']>;

export interface Authorizer<S extends Slugs = AnySlugs> {
  readonly [slugTypes]?: S;
  /** Step 2 alone: verify a raw token. Throws InvalidTokenError (401) or ServiceUnavailableError (503). */
  verify(token: string): Promise<Principal>;
  /** Steps 1–2: the principal of an `Authorization` header value. */
  authenticate(authorization: string | undefined): Promise<Principal>;
  /** Steps 3–8 for a verified principal. Resolves with the decision; throws only when it cannot decide (503). */
  check(principal: Principal, permission: S['permissions'], resource?: TypedResourceRef<S> | null, options?: CheckOptions): Promise<Decision>;
  /**
   * The whole decision for one request (steps 1–8), as the adapters run it. The resource (or its
   * resolver, called with `context`) is only consulted when the token alone does not grant.
   * Throws ForbiddenError when denied.
   */
  authorizeRequest<Context>(
    authorization: string | undefined,
    permission: string,
    resource?: ResourceRef | ResourceResolver<Context> | null,
    context?: Context,
  ): Promise<AuthorizedRequest>;
  /** The same decision as `check`, as a boolean: false on denial; rejects only when it cannot decide (503). */
  can(principal: Principal, permission: S['permissions'], resource?: TypedResourceRef<S> | null, options?: CheckOptions): Promise<boolean>;
  /**
   * Several decisions at once, in input order. Each is decided as `check` would; identical entries
   * share one; upstream calls run in parallel, `concurrency` (default 8) at once, in one `timeout`
   * budget. Rejects with ServiceUnavailableError if any entry cannot be decided (nothing partial).
   */
  checkMany(principal: Principal, checks: readonly CheckRequest[], options?: CheckManyOptions): Promise<Decision[]>;
  /** The organization membership id decisions run for (the claim, else the remembered lookup); null if none. */
  membershipOf(principal: Principal): Promise<string | null>;
  /**
   * The resources under `parent` on which the caller holds `permission` (following pages, up to
   * `maxResults`, default 1 000; `complete: false` when more exist). With the permission in the
   * token: every child of the parent in the caller's organization. Remembered like decisions.
   */
  listAccessible(principal: Principal, permission: string, options: ListAccessibleOptions): Promise<AccessibleList>;
  /**
   * Exactly the items for which `can` would answer true, in input order. With `options.parent`, one
   * listing answers the items it returns and checks answer the rest; without, each is checked.
   */
  filterAccessible<T>(
    principal: Principal,
    permission: string,
    items: readonly T[],
    toResource: (item: T) => ResourceRef,
    options?: FilterAccessibleOptions,
  ): Promise<T[]>;
  /**
   * Forget what a change could affect: no remembered decision, membership lookup or listing that
   * depends on any scope named is served afterwards, and no call in flight from before puts one back.
   */
  invalidate(scope: InvalidationScope): Promise<void>;
  /** Register and remove FGA resources; each write invalidates what it changed before it resolves. */
  readonly resources: ResourceWrites;
  /** Assign and remove roles on resources; each write invalidates the membership before it resolves. */
  readonly roles: RoleWrites;
  /** Apply a WorkOS event (from your own webhook handler or the Events API): invalidates what it changed. */
  applyEvent(event: WorkOSEvent): Promise<void>;
  /** Poll the Events API and apply each event; for apps that cannot receive webhooks. */
  followEvents(options?: FollowEventsOptions): EventFollower;
  /** Forget everything remembered (decisions, memberships, listings); verified tokens stay. */
  clearCache(): void;
  /** How many entries each cache holds right now (for monitoring; each stays within its `max`). */
  cacheStats(): CacheStats;
  /**
   * Is this authorizer wired to the right environment? The API key, the client id, the issuers, the
   * JWKS, and every permission slug and resource type named by guards made with it so far. Never
   * throws for a finding: each is a check in the report, with a fix hint.
   */
  preflight(): Promise<PreflightReport>;
  /**
   * Why `principal` is (not) granted `permission` on `resource`, for debugging a 403: the decision
   * (read fresh), the token's part, the membership and its status, the role assignments on the
   * resource and its ancestors, and the effective permissions there. Asks WorkOS several questions:
   * not for the request path. Holds no token and no secret.
   */
  explain(principal: Principal, permission: S['permissions'], resource?: TypedResourceRef<S> | null): Promise<Explanation>;
  readonly realm: string;
}

/** A request that may go on: who is calling, and the decision that let them through. */
export interface AuthorizedRequest {
  readonly principal: Principal;
  readonly decision: Decision;
}

export interface CacheStats {
  /** Remembered check answers (at most `cache.max`). */
  readonly decisions: number;
  /** Remembered membership lookups (at most `cache.max`). */
  readonly memberships: number;
  /** Remembered listings (at most `cache.max`). */
  readonly listings: number;
  /** Remembered organizations of stored resource ids (at most `cache.max`). */
  readonly resourceOrganizations: number;
  /** Remembered verified tokens (at most `tokenCacheMax`). */
  readonly tokens: number;
  /** The shared store's state, when there is one. */
  readonly store?: StoreStats;
}

/** What the adapters call: the same as `authenticate` and `authorizeRequest`, but settling synchronously when no I/O is needed. */
export interface RequestGate {
  authenticate(authorization: string | undefined): Settling<Principal>;
  authorize<Context>(
    authorization: string | undefined,
    permission: string,
    resource: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh?: boolean,
  ): Settling<AuthorizedRequest>;
  authorizeSeveral<Context>(
    authorization: string | undefined,
    requirement: Requirement,
    resource: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh?: boolean,
  ): Settling<AuthorizedRequest>;
  /** A webhook delivery: verified with the SDK, then applied. Throws WebhookError (400) when it does not verify. */
  receiveWebhook(rawBody: string | Uint8Array, signature: string | undefined, options: WebhookOptions): Promise<void>;
}

/** Any one of the permissions, or all of them (a non-empty list). */
export interface Requirement {
  readonly mode: 'any' | 'all';
  readonly permissions: readonly string[];
}

const gates = new WeakMap<Authorizer, RequestGate>();

/** Through the public, always-async methods: for an `Authorizer` not made by createAuthorizer. */
function publicGate(authz: Authorizer): RequestGate {
  async function authorizeSeveral<Context>(
    authorization: string | undefined,
    { mode, permissions }: Requirement,
    resource: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh?: boolean,
  ): Promise<AuthorizedRequest> {
    const principal = await authz.authenticate(authorization);
    const resolved = typeof resource === 'function' ? await resource(context) : resource;
    const options: CheckOptions = { consistency: fresh ? 'fresh' : 'cached' };
    const decisions: Decision[] = [];
    for (const permission of permissions) {
      const decision = await authz.check(principal, permission, resolved, options);
      if (mode === 'any' && decision.allowed) return { principal, decision };
      decisions.push(decision);
    }
    const decision = mode === 'any' ? (decisions[0] as Decision) : decideAll(decisions);
    if (!decision.allowed) throw new ForbiddenError(authz.realm, decision.permission);
    return { principal, decision };
  }
  return {
    authenticate: (authorization) => authz.authenticate(authorization),
    authorize: (authorization, permission, resource, context, fresh) =>
      fresh
        ? authorizeSeveral(authorization, { mode: 'all', permissions: [permission] }, resource, context, fresh)
        : authz.authorizeRequest(authorization, permission, resource, context),
    authorizeSeveral,
    receiveWebhook() {
      return Promise.reject(new TypeError('fga-guard: workosWebhook needs an authorizer made by createAuthorizer'));
    },
  };
}

/**
 * The adapters' entry into an authorizer. For one made by createAuthorizer (in this copy of the
 * package) it answers without a promise when it can; for any other `Authorizer` (a wrapper, a test
 * double) it goes through the public, always-async methods.
 */
export function requestGate(authz: Authorizer): RequestGate {
  return gates.get(authz) ?? publicGate(authz);
}

export function createAuthorizer<S extends Slugs = AnySlugs>(options?: AuthorizerOptions): Authorizer<S> {
  const config = resolveConfig(options);
  const { telemetry } = config;
  const verifier = new TokenVerifier(config);
  const cacheMax = config.cache === false ? false : config.cache.max;
  const generations = new Generations();
  const { store } = config;
  const level = store === undefined ? undefined : { store, now: () => Date.now() };
  const decisions = new DecisionCache(cacheMax, generations, clock, DEFAULT_CACHE.max, level);
  const idOrNone = level && { level, isValue: isIdOrFalse };
  const memberships = new CoalescingCache<string | false>(cacheMax, generations, clock, idOrNone);
  const resourceOrganizations = new CoalescingCache<string | false>(cacheMax, generations, clock, idOrNone);
  const listings = new CoalescingCache<Listing>(cacheMax, generations, clock, level && { level, isValue: isListing });
  // Another instance's invalidation; and a channel that may have missed some (lost, or back): forget all.
  store?.subscribe((scopes: ScopeKeys | 'all') => (scopes === 'all' ? generations.invalidateAll() : generations.invalidate(scopes)));
  store?.onHealthChange(() => generations.invalidateAll());
  const discovery = createDiscovery({
    client: config.client,
    telemetry,
    timeout: config.timeout,
    ttl: { found: ttlFor(config, true), empty: ttlFor(config, false) },
    listings,
    now: () => clock.now(),
    membershipFor,
    decide: (principal, permission, resource, deadline, fresh) =>
      decideOnResource(principal, permission, resource, newRun(fresh, false, deadline)),
  });

  /** Here at once; through the store (when there is one) to every other instance. */
  async function invalidate(scope: InvalidationScope): Promise<void> {
    const keys = scopeKeysOf(scope);
    generations.invalidate(keys);
    await store?.invalidate(keys);
  }
  async function invalidateAll(): Promise<void> {
    generations.invalidateAll();
    await store?.invalidate('all');
  }
  const writes = createWrites({ client: config.client, timeout: config.timeout, invalidate, telemetry });
  const events = createEvents({
    client: config.client,
    invalidate,
    invalidateAll,
    revokeSession: (sessionId) => verifier.revokeSession(sessionId),
  });

  /** The decision, told to `onDecision`. Arguments, not an outcome object: one object less per decision (a batch's marginal cost). */
  function finish(
    principal: Principal,
    permission: string,
    run: DecisionRun,
    allowed: boolean,
    source: Decision['source'],
    resource?: ResourceRef,
    membership?: string,
    reason?: DenialReason,
  ): Decision {
    // Built field by field: an object spread here is a measurable share of a cached decision.
    const decision: Mutable<Decision> = {
      allowed,
      source,
      permission,
      userId: principal.userId,
      organizationId: principal.organizationId,
      latency: elapsed(run),
    };
    if (resource !== undefined) decision.resource = resource;
    if (membership !== undefined) decision.membership = membership;
    if (reason !== undefined) decision.reason = reason;
    telemetry.decision(source, allowed);
    if (config.onDecision) {
      // An observer must not change the answer, nor crash the process: a throw and a rejection are both ignored.
      try {
        const observed = config.onDecision(decision);
        if (isPromiseLike(observed)) observed.then(undefined, ignore);
      } catch {
        // ignored, as above
      }
    }
    return decision;
  }

  /** The decision for a check's answer: granted, not granted, or refused because WorkOS does not know something. */
  function finishAnswer(
    principal: Principal,
    permission: string,
    run: DecisionRun,
    answer: CheckAnswer,
    source: 'cache' | 'api',
    resource: ResourceRef,
    membership: string,
  ): Decision {
    if (answer === true) return finish(principal, permission, run, true, source, resource, membership);
    return finish(principal, permission, run, false, source, resource, membership, answer === false ? 'not_granted' : answer);
  }

  /** Steps 1–2. A token verified before is answered from memory, at once, before any other work on it. */
  function principalOf(authorization: string | undefined): Settling<Principal> {
    const known = verifier.rememberedHeader(authorization);
    if (known) return known;
    const token = bearerCredentials(authorization, config.realm);
    const remembered = verifier.remembered(token);
    if (remembered) return remembered;
    assertSingleToken(token, config.realm, config.maxTokenLength);
    return verifier.verify(token);
  }

  /**
   * The decision order, top to bottom, in steps that each hand on to the next: every step answers
   * synchronously unless it has to wait (an async resolver, a lookup, the check). `fresh` skips
   * remembered decisions and membership lookups (what it learns is remembered for others).
   */
  function decide<Context>(
    principal: Principal,
    permission: string,
    resourceOrResolver: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh: boolean,
  ): Settling<Decision> {
    const run = newRun(fresh, false);
    const resource = typeof resourceOrResolver === 'function' ? resourceOrResolver(context) : resourceOrResolver;
    return isPromiseLike(resource)
      ? Promise.resolve(resource).then((resolved) => decideOnResource(principal, permission, resolved, run))
      : decideOnResource(principal, permission, resource, run);
  }

  /**
   * Steps 3–8 on a resolved resource, in the circumstances of `run` (when it started, its budget
   * once running, fresh or not).
   */
  function decideOnResource(
    principal: Principal,
    permission: string,
    resource: ResourceRef | null | undefined,
    run: DecisionRun,
  ): Settling<Decision> {
    // 3. Org-wide permissions ride in the token, and hold in the token's organization only. No
    // resource, or one named by external id (found inside the caller's organization): granted.
    // A stored id names a resource in any organization: granted once it is known to be in this one.
    if (principal.permissions.includes(permission)) {
      if (resource === undefined || resource === null) return finish(principal, permission, run, true, 'token');
      if (!('id' in resource)) return finish(principal, permission, run, true, 'token', resource);
      return decideOnStoredResource(principal, permission, resource, run);
    }
    return decideWithWorkOS(principal, permission, resource, run);
  }

  /** Step 3 for a token permission and a stored resource id: is the resource in the token's organization? */
  function decideOnStoredResource(
    principal: Principal,
    permission: string,
    resource: { id: string },
    run: DecisionRun,
  ): Settling<Decision> {
    const { organizationId } = principal;
    if (organizationId === undefined || validateResource(resource) === 'too_long') {
      return decideWithWorkOS(principal, permission, resource, run);
    }
    const grantIfHere = (owner: string | false, current = run) =>
      owner === organizationId
        ? finish(principal, permission, current, true, 'token', resource)
        : decideWithWorkOS(principal, permission, resource, run);
    const known = resourceOrganizations.peek(resource.id, run.started);
    if (known !== undefined) return grantIfHere(known);
    // One budget for everything this decision asks WorkOS: this lookup and whatever follows it.
    const budget = (run.deadline ??= Date.now() + config.timeout);
    const lookup = resourceOrganizations.load(
      resource.id,
      budget,
      [resourceScope(resource)],
      async () => {
        const owner = await telemetry.upstream('resource', attributesOf({ resource }), (call) =>
          findResourceOrganization(config.client, resource.id, budget, call),
        );
        return owner === false
          ? { value: owner, ttl: ttlFor(config, false) }
          : { value: owner, ttl: ttlFor(config, true, RESOURCE_ORGANIZATION_TTL), scopes: [organizationScope(owner)] };
      },
      { kind: 'r', organizationId: undefined, parts: [resource.id] },
    );
    return lookup.then((owner) => grantIfHere(owner, resumed(run)));
  }

  /** Steps 4–8: WorkOS decides, for the caller's membership, on the resource. */
  function decideWithWorkOS(
    principal: Principal,
    permission: string,
    resource: ResourceRef | null | undefined,
    run: DecisionRun,
  ): Settling<Decision> {
    // 4. Without a resource there is nothing more to ask.
    if (resource === undefined || resource === null) {
      return finish(principal, permission, run, false, 'token', undefined, undefined, 'no_resource');
    }
    // (A batch's entries on the resource it looked up last were validated with it.)
    if (resource !== run.shared?.resource && validateResource(resource) === 'too_long') {
      return finish(principal, permission, run, false, 'token', resource, undefined, 'invalid_resource');
    }

    // 5. The membership the check runs for: a machine's from machines.membership only; a user's
    // from the token, else looked up (and remembered).
    if (principal.kind === 'machine') return decideForMachine(principal, permission, resource, run);
    const claimed = principal.organizationMembershipId;
    if (claimed !== undefined) return decideForMembership(principal, permission, resource, claimed, run);
    const { organizationId } = principal;
    if (organizationId === undefined || !config.membershipLookup) {
      const reason = organizationId === undefined ? 'no_organization' : 'no_membership';
      return finish(principal, permission, run, false, 'token', resource, undefined, reason);
    }
    const key = membershipKey(principal, organizationId);
    const remembered = run.fresh ? undefined : memberships.peek(key, run.started);
    if (remembered === false) return finish(principal, permission, run, false, 'cache', resource, undefined, 'no_membership');
    if (remembered !== undefined) return decideForMembership(principal, permission, resource, remembered, run);
    // One budget for everything this decision asks WorkOS: the lookup and the check.
    const budget = (run.deadline ??= Date.now() + config.timeout);
    return loadMembership(principal.userId, organizationId, key, budget, run.fresh).then((found) =>
      found === false
        ? finish(principal, permission, resumed(run), false, 'api', resource, undefined, 'no_membership')
        : decideForMembership(principal, permission, resource, found, run),
    );
  }

  /** Step 5 for a machine: the membership machines.membership maps it to, if any; no user lookup. */
  function decideForMachine(principal: Principal, permission: string, resource: ResourceRef, run: DecisionRun): Settling<Decision> {
    const decideFor = (membership: string | null, current: DecisionRun) =>
      membership === null
        ? finish(principal, permission, current, false, 'token', resource, undefined, 'machine_without_membership')
        : decideForMembership(principal, permission, resource, membership, current);
    const mapped = machineMembership(config.machines, principal);
    return isPromiseLike(mapped) ? mapped.then((membership) => decideFor(membership, resumed(run))) : decideFor(mapped, run);
  }

  /** The membership decisions run for: the claim, else the remembered or looked-up one; null when none. */
  function membershipFor(principal: Principal, deadline: number, fresh: boolean): Settling<string | null> {
    if (principal.kind === 'machine') return machineMembership(config.machines, principal);
    const { organizationId, organizationMembershipId } = principal;
    if (organizationMembershipId !== undefined) return organizationMembershipId;
    if (organizationId === undefined || !config.membershipLookup) return null;
    const key = membershipKey(principal, organizationId);
    const remembered = fresh ? undefined : memberships.peek(key, clock.now());
    if (remembered !== undefined) return remembered === false ? null : remembered;
    return loadMembership(principal.userId, organizationId, key, deadline, fresh).then((found) => (found === false ? null : found));
  }

  /** The active membership of the user in the organization (false: none), asked once for all callers. */
  function loadMembership(userId: string, organizationId: string, key: string, deadline: number, fresh: boolean): Promise<string | false> {
    return memberships.load(
      key,
      deadline,
      [organizationScope(organizationId), userScope(userId)],
      async () => {
        const found = await telemetry.upstream('membership', attributesOf({ userId, organizationId }), (call) =>
          findActiveMembership(config.client, userId, organizationId, deadline, call),
        );
        return found === false
          ? { value: found, ttl: ttlFor(config, false) }
          : { value: found, ttl: ttlFor(config, true), scopes: [membershipScope(found)] };
      },
      { kind: 'm', organizationId, parts: [userId, organizationId] },
      fresh,
    );
  }

  function decideForMembership(
    principal: Principal,
    permission: string,
    resource: ResourceRef,
    membership: string,
    run: DecisionRun,
  ): Settling<Decision> {
    // 6. Remembered decisions, keyed so they never cross memberships, permissions or resources.
    // A batch's entries on one resource share its lookup.
    let { shared } = run;
    if (shared === undefined || shared.membership !== membership || !sameResource(shared.resource, resource)) {
      const groupKey = decisions.groupKey(membership, resource);
      shared = { membership, resource, groupKey, group: run.fresh ? undefined : decisions.group(groupKey) };
      if (run.batch) run.shared = shared;
    }
    const remembered = shared.group === undefined ? undefined : decisions.answer(shared.group, permission, run.started);
    if (remembered !== undefined) {
      return finishAnswer(principal, permission, run, remembered, 'cache', resource, membership);
    }

    // 7–8. One call of the check API for all identical in-flight checks; errors are not remembered.
    // The budget starts here unless a lookup (or the batch) already started it.
    const budget = (run.deadline ??= Date.now() + config.timeout);
    const answer = decisions.load(
      shared.groupKey,
      permission,
      decisionScopes(principal, membership, resource),
      budget,
      () =>
        telemetry.upstream('check', attributesOf({ permission, resource, membership }), (call) =>
          checkPermission(config.client, membership, permission, resource, budget, call),
        ),
      (granted) => ttlFor(config, granted),
      { kind: 'd', organizationId: principal.organizationId, parts: [membership, permission, resourceScope(resource)] },
      run.fresh,
    );
    return answer.then(({ answer: settled, source }) => finishAnswer(principal, permission, resumed(run), settled, source, resource, membership));
  }

  /** Steps 1–8 for one request; a denial throws ForbiddenError. */
  function authorize<Context>(
    authorization: string | undefined,
    permission: string,
    resource: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh = false,
  ): Settling<AuthorizedRequest> {
    const principal = principalOf(authorization);
    return isPromiseLike(principal)
      ? principal.then((verified) => admit(verified, permission, resource, context, fresh))
      : admit(principal, permission, resource, context, fresh);
  }

  function admit<Context>(
    principal: Principal,
    permission: string,
    resource: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh: boolean,
  ): Settling<AuthorizedRequest> {
    const decision = decide(principal, permission, resource, context, fresh);
    return isPromiseLike(decision)
      ? decision.then((decided) => allowedOrThrow(principal, decided))
      : allowedOrThrow(principal, decision);
  }

  /** Steps 1–8 for a request that needs any, or all, of several permissions on one resource. */
  function authorizeSeveral<Context>(
    authorization: string | undefined,
    requirement: Requirement,
    resource: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh = false,
  ): Settling<AuthorizedRequest> {
    const principal = principalOf(authorization);
    return isPromiseLike(principal)
      ? principal.then((verified) => admitSeveral(verified, requirement, resource, context, fresh))
      : admitSeveral(principal, requirement, resource, context, fresh);
  }

  function admitSeveral<Context>(
    principal: Principal,
    requirement: Requirement,
    resourceOrResolver: ResourceRef | ResourceResolver<Context> | null | undefined,
    context: Context,
    fresh: boolean,
  ): Settling<AuthorizedRequest> {
    // The resource is resolved once, for every permission.
    const resource = typeof resourceOrResolver === 'function' ? resourceOrResolver(context) : resourceOrResolver;
    const decision = isPromiseLike(resource)
      ? Promise.resolve(resource).then((resolved) => decideSeveral(principal, requirement, resolved, fresh))
      : decideSeveral(principal, requirement, resource, fresh);
    return isPromiseLike(decision)
      ? decision.then((decided) => allowedOrThrow(principal, decided))
      : allowedOrThrow(principal, decision);
  }

  /** One budget for all of the requirement's decisions. */
  function decideSeveral(
    principal: Principal,
    { mode, permissions }: Requirement,
    resource: ResourceRef | null | undefined,
    fresh: boolean,
  ): Settling<Decision> {
    const run = batchRun(fresh);
    const decideOne = (permission: string, on: ResourceRef | null | undefined) => decideOnResource(principal, permission, on, run);
    if (mode === 'any') return decideAny(permissions, principal.permissions, (permission) => decideOne(permission, resource));
    const checks = permissions.map((permission) => ({ permission, resource }));
    const decided = decideMany(checks, DEFAULT_CONCURRENCY, decideOne);
    return isPromiseLike(decided) ? decided.then(decideAll) : decideAll(decided);
  }

  /**
   * One budget, one clock reading and shared lookups for every decision of a batch. The budget
   * starts with the first decision that has to ask WorkOS (in the same turn as the call, as every
   * entry starts in order until one waits).
   */
  function batchRun(fresh: boolean): DecisionRun {
    return newRun(fresh, true);
  }

  function allowedOrThrow(principal: Principal, decision: Decision): AuthorizedRequest {
    if (!decision.allowed) throw new ForbiddenError(config.realm, decision.permission);
    return { principal, decision };
  }

  const authorizer: Authorizer = {
    realm: config.realm,
    verify: (token) => verifier.verify(token),
    authenticate: async (authorization) => principalOf(authorization),
    async check(principal, permission, resource, options) {
      assertPermission(permission);
      assertPrincipal(principal);
      if (resource !== undefined && resource !== null) validateResource(resource);
      return decide(principal, permission, resource, undefined, isFresh(options));
    },
    async can(principal, permission, resource, options) {
      return (await authorizer.check(principal, permission, resource, options)).allowed;
    },
    async checkMany(principal, checks, options) {
      assertPrincipal(principal);
      assertChecks(checks, options);
      const run = batchRun(isFresh(options));
      return decideMany(checks, options?.concurrency ?? DEFAULT_CONCURRENCY, (permission, resource) => decideOnResource(principal, permission, resource, run));
    },
    async membershipOf(principal) {
      assertPrincipal(principal);
      return membershipFor(principal, Date.now() + config.timeout, false);
    },
    async listAccessible(principal, permission, options) {
      assertPrincipal(principal);
      return discovery.listAccessible(principal, permission, options);
    },
    async filterAccessible(principal, permission, items, toResource, options) {
      assertPrincipal(principal);
      return discovery.filterAccessible(principal, permission, items, toResource, options);
    },
    async authorizeRequest<Context>(
      authorization: string | undefined,
      permission: string,
      resource?: ResourceRef | ResourceResolver<Context> | null,
      context?: Context,
    ) {
      return authorize(authorization, permission, resource, context as Context);
    },
    invalidate,
    resources: writes.resources,
    roles: writes.roles,
    applyEvent: (event) => events.apply(event),
    followEvents: (followOptions) => events.follow(followOptions),
    clearCache() {
      // In-flight loads must not put back what was cleared; a shared store forgets too.
      void invalidateAll();
      decisions.clear();
      memberships.clear();
      resourceOrganizations.clear();
      listings.clear();
    },
    cacheStats() {
      return {
        decisions: decisions.size,
        memberships: memberships.size,
        resourceOrganizations: resourceOrganizations.size,
        listings: listings.size,
        tokens: verifier.cachedTokens,
        ...(store === undefined ? {} : { store: store.stats() }),
      };
    },
    // Diagnostics (issue #24): on demand, never on the request path.
    preflight: () => runPreflight(config, authorizer),
    async explain(principal, permission, resource) {
      assertPermission(permission);
      assertPrincipal(principal);
      if (resource !== undefined && resource !== null) validateResource(resource);
      return explainDecision(config, authorizer, principal, permission, resource ?? undefined);
    },
  };
  telemetry.observeCaches(() => authorizer.cacheStats());
  gates.set(authorizer, {
    authenticate: principalOf,
    authorize,
    authorizeSeveral,
    receiveWebhook: (rawBody, signature, webhook) => events.receiveWebhook(rawBody, signature, webhook),
  });
  return authorizer as Authorizer<S>;
}

const isIdOrFalse = (value: unknown): value is string | false => value === false || (typeof value === 'string' && value.length > 0);

/** The circumstances of one decision, or of a batch's decisions. */
interface DecisionRun {
  /** The decision clock's reading at the start: remembered answers are checked against it. */
  readonly started: number;
  /** When the budget runs out (wall clock), once it has started. */
  deadline: number | undefined;
  /** Skip remembered decisions and membership lookups. */
  readonly fresh: boolean;
  /** Several decisions: entries on one resource share a lookup, and answers given at once a clock reading. */
  readonly batch: boolean;
  shared: SharedLookup | undefined;
  /** A batch's last clock reading, until it waits for something. */
  reading: number | undefined;
}

/** Every run is built here, with all its fields: one object shape keeps the decision steps monomorphic. */
function newRun(fresh: boolean, batch: boolean, deadline?: number): DecisionRun {
  const started = clock.now();
  return { started, deadline, fresh, batch, shared: undefined, reading: batch ? started : undefined };
}

/** ms since the decision started: for a batch's answers given at once, to its last clock reading. */
function elapsed(run: DecisionRun): number {
  return (run.batch ? (run.reading ??= clock.now()) : clock.now()) - run.started;
}

/** The run, after a wait: a batch's last clock reading is old. */
function resumed(run: DecisionRun): DecisionRun {
  run.reading = undefined;
  return run;
}

/** A batch's last lookup of a (membership, resource) pair's remembered answers. */
interface SharedLookup {
  readonly membership: string;
  readonly resource: ResourceRef;
  readonly groupKey: string;
  readonly group: AnswerGroup | undefined;
}

/** What a check's answer depends on: invalidating any of these makes it stale. */
function decisionScopes(principal: Principal, membership: string, resource: ResourceRef): ScopeKeys {
  const scopes = [membershipScope(membership), userScope(principal.userId), resourceScope(resource)];
  if (principal.organizationId !== undefined) scopes.push(organizationScope(principal.organizationId));
  return scopes;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const ignore = () => {};

/**
 * The membership cache's key of a principal, built once per principal: the same string object
 * request after request, whose hash V8 keeps. A key built afresh (≈ 40 characters) is hashed whole
 * on every lookup: a warm request whose token has no membership claim (AuthKit's have none) took
 * ≈ 230 ns more in a loop than one whose token has it (Node 24). Checked against the principal's
 * ids on every use, so a principal object changed after its first use (one an app made) gets its
 * own key.
 */
const membershipKeys = new WeakMap<Principal, { userId: string; organizationId: string; key: string }>();

function membershipKey(principal: Principal, organizationId: string): string {
  const { userId } = principal;
  const known = membershipKeys.get(principal);
  if (known !== undefined && known.userId === userId && known.organizationId === organizationId) return known.key;
  const key = cacheKey(userId, organizationId);
  membershipKeys.set(principal, { userId, organizationId, key });
  return key;
}

/**
 * How long a stored resource id's organization is remembered. A resource never moves to another
 * organization; the bound only lets a deleted resource be forgotten.
 */
const RESOURCE_ORGANIZATION_TTL = 10 * 60_000;

function ttlFor(config: ResolvedConfig, positive: boolean, positiveTtl?: number): number {
  if (config.cache === false) return 0;
  return positive ? (positiveTtl ?? config.cache.ttl) : config.cache.negativeTtl;
}

function assertPrincipal(principal: unknown): asserts principal is Principal {
  const candidate = principal as Partial<Principal> | null;
  if (typeof candidate?.userId !== 'string' || !Array.isArray(candidate.permissions)) {
    throw new TypeError('fga-guard: check() takes the principal returned by verify()/authenticate()');
  }
}
