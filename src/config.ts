import { WorkOS } from '@workos-inc/node';
import { DEFAULT_CLAIM_NAMES, type ClaimNames } from './claims.js';
import { assertQuotable } from './errors.js';
import type { Decision } from './decision.js';
import { assertStore, type DecisionStore } from './store.js';
import { Diagnostics, resolveLogger, watchClient, type Logger } from './diagnostics.js';
import { resolveMachines, type MachineOptions, type ResolvedMachines } from './machines.js';
import { statusReportingFetch, Telemetry, type TelemetryOptions } from './telemetry.js';

export interface CacheOptions {
  /** How long an allow is remembered, ms (default 30 000). */
  ttl?: number;
  /** How long a denial (or "no membership") is remembered, ms (default 5 000). */
  negativeTtl?: number;
  /** Entries per cache at most (default 10 000). */
  max?: number;
}

export interface AuthorizerOptions {
  /** A configured WorkOS client; its apiKey, apiHostname, port and https are used. */
  workos?: WorkOS;
  /** Default: `workos.key`, then WORKOS_API_KEY. */
  apiKey?: string;
  /** Default: `workos.clientId`, then WORKOS_CLIENT_ID. */
  clientId?: string;
  /** Accepted `iss` values, compared exactly. Default: the AuthKit issuers for this client id. */
  issuer?: string | string[];
  /** Default: `workos.userManagement.getJwksUrl(clientId)`. */
  jwksUrl?: string | URL;
  /**
   * Required `aud`. AuthKit access tokens carry none; without this option a token that has an `aud`
   * (another kind of token signed by the same keys, such as an agent credential) is refused.
   */
  audience?: string | string[];
  /** Accepted JWS algorithms (default ['RS256']). */
  algorithms?: string[];
  /** Seconds of clock skew allowed for `nbf` and `iat` (default 5). `exp` is always strict. */
  clockTolerance?: number;
  /** Claim names (dot paths allowed). */
  claims?: Partial<ClaimNames>;
  /** Look up the membership of (sub, org_id) when the token carries no membership id (default true). */
  membershipLookup?: boolean;
  /** Decision and membership caches; `false` turns them off. */
  cache?: false | CacheOptions;
  /** Budget in ms for one upstream decision (JWKS fetch or membership + check), retries included (default 2 500). */
  timeout?: number;
  /** Called once per decision, not awaited; an exception it throws or a promise it rejects is ignored. */
  onDecision?: (decision: Decision) => void | PromiseLike<void>;
  /** `realm` of the WWW-Authenticate challenge (default 'api'). */
  realm?: string;
  /** Tokens longer than this are rejected before any parsing (default 8 192 characters). */
  maxTokenLength?: number;
  /** Verified tokens remembered until their `exp`, at most this many (default 10 000; 0 turns it off). */
  tokenCacheMax?: number;
  /**
   * A store shared by every instance (`createRedisStore()` from fga-guard/redis): asked after this
   * process's memory and before WorkOS, and the channel invalidations reach every instance through.
   */
  store?: DecisionStore;
  /**
   * Where configuration mistakes seen at run time go (a JWKS 404, WorkOS refusing the API key, an
   * unknown permission slug or resource type), each once with a fix (default console.warn; false: nowhere).
   */
  logger?: Logger | false;
  /** Accept machine (client-credentials) tokens from this AuthKit domain; never accepted without it. See docs/machines.md. */
  machines?: MachineOptions;
  /**
   * OpenTelemetry spans and metrics, when `@opentelemetry/api` is installed (default: on, without
   * ids; `{ ids: true }` adds user, membership and resource ids to spans; false: never loaded).
   */
  telemetry?: false | TelemetryOptions;
}

export interface ResolvedConfig {
  readonly client: WorkOS;
  readonly clientId: string;
  readonly issuers: string[];
  readonly jwksUrl: URL;
  readonly audience: string | string[] | undefined;
  readonly algorithms: string[];
  readonly clockTolerance: number;
  readonly claimNames: ClaimNames;
  readonly membershipLookup: boolean;
  readonly cache: Required<CacheOptions> | false;
  readonly timeout: number;
  readonly onDecision: AuthorizerOptions['onDecision'];
  readonly realm: string;
  readonly maxTokenLength: number;
  readonly tokenCacheMax: number;
  readonly store: DecisionStore | undefined;
  readonly diagnostics: Diagnostics;
  readonly machines: ResolvedMachines | undefined;
  readonly telemetry: Telemetry;
}

export const DEFAULT_CACHE: Readonly<Required<CacheOptions>> = Object.freeze({
  ttl: 30_000,
  negativeTtl: 5_000,
  max: 10_000,
});

const SYMMETRIC_ALGORITHM = /^HS/i;

function fail(message: string): never {
  throw new TypeError(`fga-guard: ${message}`);
}

function positiveInteger(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    fail(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  }
  return value;
}

function stringList(value: unknown, name: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === 'string' && item.length > 0)) {
    fail(`${name} must be a non-empty string or a non-empty array of them`);
  }
  return list as string[];
}

function resolveCache(cache: AuthorizerOptions['cache']): Required<CacheOptions> | false {
  if (cache === false) return false;
  if (cache !== undefined && (typeof cache !== 'object' || cache === null)) fail('cache must be false or { ttl, negativeTtl, max }');
  return {
    ttl: positiveInteger(cache?.ttl, 'cache.ttl', DEFAULT_CACHE.ttl),
    negativeTtl: positiveInteger(cache?.negativeTtl, 'cache.negativeTtl', DEFAULT_CACHE.negativeTtl),
    max: positiveInteger(cache?.max, 'cache.max', DEFAULT_CACHE.max),
  };
}

function resolveClaimNames(claims: AuthorizerOptions['claims']): ClaimNames {
  const names = { ...DEFAULT_CLAIM_NAMES, ...claims };
  for (const [field, path] of Object.entries(names)) {
    if (typeof path !== 'string' || path.length === 0) fail(`claims.${field} must be a non-empty string`);
  }
  return names;
}

/**
 * The client fga-guard calls WorkOS with. The SDK on its own retries for up to minutes; a copy of
 * the user's client with its retries off and its per-request timeout at our budget keeps every
 * decision inside `timeout` (fga-guard retries briefly itself).
 */
function decisionClient(apiKey: string, clientId: string, timeout: number, workos: WorkOS | undefined, traced: boolean): WorkOS {
  // Traced: its fetch tells each call's span the status it got.
  const fetchFn = (inner: typeof fetch | undefined) => (traced ? { fetchFn: statusReportingFetch(inner) } : {});
  if (!workos) return new WorkOS(apiKey, { clientId, maxRetries: 0, timeout, ...fetchFn(undefined) });
  // A stand-in without SDK options is used as given (its calls are still raced against the budget).
  if (typeof workos.options !== 'object' || workos.options === null) return workos;
  // Its own constructor, not ours: under ESM/CJS the user's class may be another copy of the SDK.
  const Client = workos.constructor as typeof WorkOS;
  return new Client(apiKey, { ...workos.options, apiKey, clientId, maxRetries: 0, timeout, ...fetchFn(workos.options.fetchFn) });
}

/** `process.env[name]` where there is a `process` (Node, Bun, Deno, Workers with nodejs_compat); else undefined. */
function environmentVariable(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

function resolveTelemetry(telemetry: unknown): false | TelemetryOptions | undefined {
  if (telemetry === undefined || telemetry === false) return telemetry;
  const ids = (telemetry as TelemetryOptions | null)?.ids;
  if (typeof telemetry !== 'object' || telemetry === null || Array.isArray(telemetry) || (ids !== undefined && typeof ids !== 'boolean')) {
    fail('telemetry must be false or { ids?: boolean }');
  }
  return telemetry as TelemetryOptions;
}

function checkedStore(store: unknown): DecisionStore | undefined {
  assertStore(store);
  return store;
}

export function resolveConfig(options: AuthorizerOptions = {}): ResolvedConfig {
  if (typeof options !== 'object' || options === null) fail('createAuthorizer takes an options object');
  const { workos } = options;
  if (workos !== undefined && (typeof workos !== 'object' || workos === null || !('authorization' in workos))) {
    fail('workos must be a WorkOS client from @workos-inc/node');
  }
  const apiKey = options.apiKey ?? workos?.key ?? environmentVariable('WORKOS_API_KEY');
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    fail('no WorkOS API key: pass apiKey, a configured workos client, or set WORKOS_API_KEY');
  }
  const clientId = options.clientId ?? workos?.clientId ?? environmentVariable('WORKOS_CLIENT_ID');
  if (typeof clientId !== 'string' || clientId.length === 0) {
    fail('no WorkOS client id: pass clientId or set WORKOS_CLIENT_ID');
  }

  const timeout = positiveInteger(options.timeout, 'timeout', 2_500);
  const telemetry = resolveTelemetry(options.telemetry);
  const client = decisionClient(apiKey, clientId, timeout, workos, telemetry !== false);
  const apiBase = client.baseURL ?? 'https://api.workos.com';

  const issuers =
    options.issuer === undefined ? [apiBase, `${apiBase}/user_management/${clientId}`] : stringList(options.issuer, 'issuer');

  let jwksUrl: URL;
  try {
    jwksUrl = new URL(options.jwksUrl ?? client.userManagement.getJwksUrl(clientId));
  } catch {
    fail('jwksUrl must be an absolute URL');
  }

  const algorithms = options.algorithms === undefined ? ['RS256'] : stringList(options.algorithms, 'algorithms');
  // Keys come from a public JWKS; an HMAC algorithm would let the public key act as a shared secret.
  if (algorithms.some((alg) => SYMMETRIC_ALGORITHM.test(alg) || alg.toLowerCase() === 'none')) {
    fail('algorithms must be asymmetric (e.g. RS256, ES256); HS* and none are refused');
  }

  const clockTolerance = options.clockTolerance ?? 5;
  if (typeof clockTolerance !== 'number' || !Number.isFinite(clockTolerance) || clockTolerance < 0) {
    fail('clockTolerance must be a non-negative number of seconds');
  }

  const realm = options.realm ?? 'api';
  if (typeof realm !== 'string') fail('realm must be a string');
  assertQuotable(realm, 'realm');

  if (options.onDecision !== undefined && typeof options.onDecision !== 'function') fail('onDecision must be a function');
  if (options.membershipLookup !== undefined && typeof options.membershipLookup !== 'boolean') {
    fail('membershipLookup must be a boolean');
  }

  const diagnostics = new Diagnostics(resolveLogger(options.logger));
  watchClient(client, diagnostics);

  return {
    client,
    clientId,
    issuers,
    jwksUrl,
    audience: options.audience === undefined ? undefined : stringList(options.audience, 'audience'),
    algorithms,
    clockTolerance,
    claimNames: resolveClaimNames(options.claims),
    membershipLookup: options.membershipLookup ?? true,
    cache: resolveCache(options.cache),
    timeout,
    onDecision: options.onDecision,
    realm,
    maxTokenLength: positiveInteger(options.maxTokenLength, 'maxTokenLength', 8_192),
    tokenCacheMax: positiveInteger(options.tokenCacheMax, 'tokenCacheMax', 10_000, true),
    store: checkedStore(options.store),
    diagnostics,
    machines: resolveMachines(options.machines, issuers),
    telemetry: new Telemetry(telemetry),
  };
}
