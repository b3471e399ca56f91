import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import { ClaimTypeError, principalFromClaims, type Principal, type PrincipalKind } from './claims.js';
import type { ResolvedConfig } from './config.js';
import { EXACT_TTL, LOOKUP } from './cache.js';
import { InvalidRequestError, InvalidTokenError, ServiceUnavailableError, UnauthorizedError } from './errors.js';
import type { Telemetry } from './telemetry.js';

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const JWKS_MAX_AGE_MS = 10 * 60_000;
const JWKS_RETRY_AFTER_SECONDS = 5;
/**
 * Verified tokens are looked up by their last 12 characters (the end of the signature, ≥ 64 bits)
 * rather than whole: every request brings a fresh copy of the token, and hashing ~900 characters
 * for the lookup costs about 1 µs. Twelve, because V8 copies a substring shorter than 13
 * characters into a string of its own, quicker to hash than a longer substring (a view into the
 * header): a Map lookup by the last 12 characters took 33 ns here, by the last 43, 106 ns. A hit
 * counts only when the whole token is equal, so a token that merely ends the same way is never
 * taken for a verified one; the key only has to spread the entries.
 */
const LOOKUP_KEY_LENGTH = 12;
const REVOKED_SESSIONS_MAX = 100_000;
/** Longer than any access token lives (AuthKit's default is 5 minutes). */
const REVOKED_SESSION_TTL_MS = 24 * 60 * 60_000;

/** The verified-token cache's key for a token, or for a header that ends with one. */
const lookupKey = (tokenOrHeader: string) => tokenOrHeader.slice(-LOOKUP_KEY_LENGTH);

interface VerifiedToken {
  readonly token: string;
  /** `Bearer <token>`, the header nearly every client sends it in. */
  readonly header: string;
  readonly principal: Principal;
  /** `exp` in ms of wall-clock time. */
  readonly expiresAt: number;
}

const CANONICAL_SCHEME = 'Bearer ';

const isHttpWhitespace = (code: number) => code === 0x20 || code === 0x09;
const BEARER = 'bearer';

/** The first index from `start` (before `end`) that is not SP or HTAB. */
function skipHttpWhitespace(value: string, start: number, end: number): number {
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  return start;
}

/** `bearer`, in any case, at `start`: setting bit 0x20 lowercases an ASCII letter and maps nothing else onto one. */
function hasBearerScheme(value: string, start: number): boolean {
  for (let i = 0; i < BEARER.length; i++) {
    if ((value.charCodeAt(start + i) | 0x20) !== BEARER.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Step 1 of the decision: what follows `Authorization: Bearer`, and nothing from anywhere else.
 * No header, or another scheme → 401 without an error code (RFC 6750 §3.1); an empty bearer → 400.
 * The credentials are not checked yet (see assertSingleToken): a remembered token skips that.
 */
export function bearerCredentials(header: string | undefined, realm: string): string {
  if (typeof header !== 'string' || header.length === 0) throw new UnauthorizedError(realm);
  // Only SP and HTAB separate things in a header (RFC 9110 §5.6.3); other Unicode spaces are just
  // invalid bytes. Indices, not regexes or trims: `[ \t]+$` backtracks quadratically on long runs
  // of spaces, and this runs on every request.
  let end = header.length;
  const start = skipHttpWhitespace(header, 0, end);
  while (end > start && isHttpWhitespace(header.charCodeAt(end - 1))) end--;
  const afterScheme = start + BEARER.length;
  // The scheme, then the end or whitespace (RFC 6750 §2.1).
  if (afterScheme > end || !hasBearerScheme(header, start) || (afterScheme < end && !isHttpWhitespace(header.charCodeAt(afterScheme)))) {
    throw new UnauthorizedError(realm);
  }
  const credentials = skipHttpWhitespace(header, afterScheme, end);
  if (credentials === end) throw new InvalidRequestError(realm, 'The bearer token is missing');
  return header.slice(credentials, end);
}

/** More than one token → 400 invalid_request; a string that cannot be a JWT → 401 invalid_token. */
export function assertSingleToken(credentials: string, realm: string, maxTokenLength: number): void {
  if (/[ \t]/.test(credentials)) throw new InvalidRequestError(realm, 'Only one bearer token is allowed');
  if (credentials.length > maxTokenLength) throw new InvalidTokenError(realm, 'The access token is too large');
  if (!TOKEN68.test(credentials)) throw new InvalidTokenError(realm, 'The access token is malformed');
}

/**
 * An environment's keys sign several kinds of token; a valid signature does not make one a user
 * access token. As WorkOS's SDK 12 tells them apart (`verifyAccessToken`): agent tokens carry a
 * `sub_profile` other than `user`, widget session tokens carry `sub_type`. AuthKit access tokens
 * carry no `aud` either (an agent credential's is the client id), so one is accepted only when an
 * `audience` is configured. `sid` and `auth_time` are not required: tokens minted without them
 * (by hand, in tests) keep working.
 */
function isUserAccessToken(payload: JWTPayload, audienceConfigured: boolean): boolean {
  if (payload.aud !== undefined && !audienceConfigured) return false;
  return payload.sub_type === undefined && (payload.sub_profile === undefined || payload.sub_profile === 'user');
}

/** The JWKS could not be fetched or read: nothing is known about the token. */
class JwksUnavailable extends Error {}

/**
 * Unknown `kid`s may mean a key rotation, so they trigger a JWKS refetch — but a flood of random
 * `kid`s must not become a flood of fetches. A small bucket allows a burst (a rotation right after
 * start-up is honoured at once) and then one refetch per interval.
 */
class RefetchAllowance {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(
    private readonly burst = 3,
    private readonly intervalMs = 10_000,
  ) {
    this.tokens = burst;
  }

  take(): boolean {
    const now = Date.now();
    const earned = Math.floor((now - this.refilledAt) / this.intervalMs);
    if (earned > 0) {
      this.tokens = Math.min(this.burst, this.tokens + earned);
      this.refilledAt = now;
    }
    if (this.tokens === 0) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * One issuer's remote JWKS (the users', or the machines'): jose fetches and caches it; unknown
 * `kid`s refetch it within a RefetchAllowance; a failed fetch is a JwksUnavailable.
 */
class KeySet {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly refetches = new RefetchAllowance();

  constructor(url: URL, timeout: number, telemetry: Telemetry, onNotFound: () => void) {
    this.jwks = createRemoteJWKSet(url, {
      timeoutDuration: timeout,
      cacheMaxAge: JWKS_MAX_AGE_MS,
      // jose's own unknown-kid refetch is left off (cool-down = max age); RefetchAllowance decides.
      cooldownDuration: JWKS_MAX_AGE_MS,
      // jose says only "Expected 200 OK": a 404 here is worth telling apart (a wrong client id).
      [customFetch]: (input, init) =>
        telemetry.upstream('jwks', undefined, (call) =>
          fetch(input, init).then((response) => {
            call.status = response.status;
            if (response.status === 404) onNotFound();
            return response;
          }),
        ),
    });
  }

  isEmpty(): boolean {
    return (this.jwks.jwks()?.keys.length ?? 0) === 0;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      try {
        return await this.jwks(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
        // An empty key set is an outage, like a failed fetch (which is retried on every request):
        // asking again must not use up the allowance, or recovery would wait for its refill.
        if (!this.isEmpty() && !this.refetches.take()) throw error;
        await this.jwks.reload();
        return await this.jwks(header, token);
      }
    } catch (error) {
      // No matching key, or several: the token's fault. Anything else: fetching or reading the JWKS.
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new JwksUnavailable('JWKS unavailable', { cause: error });
    }
  };
}

/** The `iss` of a token not verified yet, only to pick the key set it is verified with. */
function unverifiedIssuer(token: string): unknown {
  try {
    return decodeJwt(token).iss;
  } catch {
    // Malformed: verification (with the users' keys) refuses it.
    return undefined;
  }
}

/** Step 2: verify with jose and remember verified tokens until their `exp`. */
export class TokenVerifier {
  private readonly userKeys: KeySet;
  /** Present when `machines` is configured. */
  private readonly machines: { readonly issuer: string; readonly keys: KeySet } | undefined;
  private readonly verified: LRUCache<string, VerifiedToken> | undefined;
  /**
   * Sessions revoked (a `session.revoked` event): their tokens are refused until they would have
   * expired anyway. Kept a day, at most REVOKED_SESSIONS_MAX of them.
   */
  private readonly revokedSessions = new LRUCache<string, true>({ max: REVOKED_SESSIONS_MAX, ttl: REVOKED_SESSION_TTL_MS });

  /** `now` reads the wall clock `exp` is measured on (tests pass a scripted one). */
  constructor(
    private readonly config: ResolvedConfig,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.userKeys = new KeySet(config.jwksUrl, config.timeout, config.telemetry, () => config.diagnostics.jwksNotFound(config.jwksUrl, config.clientId));
    // A 404 there is not about the client id: the 503s say enough.
    this.machines = config.machines && {
      issuer: config.machines.issuer,
      keys: new KeySet(config.machines.jwksUrl, config.timeout, config.telemetry, () => {}),
    };
    this.verified = config.tokenCacheMax > 0 ? new LRUCache({ max: config.tokenCacheMax, ttlResolution: EXACT_TTL }) : undefined;
  }

  get cachedTokens(): number {
    return this.verified?.size ?? 0;
  }

  /**
   * The principal of a token verified before and not yet expired. Only verified tokens are
   * remembered, so a hit is also well-formed: the syntax checks can be skipped for it.
   */
  remembered(token: string): Principal | undefined {
    // An oversized token cannot have been verified: it is not even hashed for the lookup.
    if (token.length > this.config.maxTokenLength) return undefined;
    const entry = this.verified?.get(lookupKey(token), LOOKUP);
    return entry !== undefined && entry.token === token ? this.unexpired(entry) : undefined;
  }

  /**
   * The same for a whole `Authorization` header that is exactly `Bearer <token>` for a remembered
   * token: such a header parses to that token, so it need not be parsed, nor the token copied out
   * of it. Any other spelling (another case, more whitespace) is left to bearerCredentials.
   */
  rememberedHeader(header: string | undefined): Principal | undefined {
    // An oversized header cannot carry a verified token: it is not even hashed for the lookup.
    if (typeof header !== 'string' || header.length > CANONICAL_SCHEME.length + this.config.maxTokenLength) return undefined;
    const entry = this.verified?.get(lookupKey(header), LOOKUP);
    return entry !== undefined && entry.header === header ? this.unexpired(entry) : undefined;
  }

  /** Refuses the session's tokens from now on, and forgets those already verified (a scan: revocations are rare). */
  revokeSession(sessionId: string): void {
    this.revokedSessions.set(sessionId, true);
    if (this.verified === undefined) return;
    const keys = [...this.verified.entries()].filter(([, entry]) => entry.principal.sessionId === sessionId).map(([key]) => key);
    for (const key of keys) this.verified.delete(key);
  }

  /**
   * `exp` is checked again on every hit, on the wall clock it is written in: the cache measures an
   * entry's age on a monotonic clock, which a wall-clock step or a paused VM leaves behind. An
   * expired entry is dropped, and the token goes through verification (and is refused there).
   */
  private unexpired(entry: VerifiedToken): Principal | undefined {
    if (this.now() < entry.expiresAt) return entry.principal;
    this.verified?.delete(lookupKey(entry.token));
    return undefined;
  }

  async verify(token: string): Promise<Principal> {
    const { realm, maxTokenLength } = this.config;
    // Checked before the lookup: verify() is public, and the lookup slices what it is given.
    if (typeof token !== 'string' || token.length === 0) throw new InvalidTokenError(realm, 'The access token is malformed');
    const cached = this.remembered(token);
    if (cached) return cached;
    if (token.length > maxTokenLength) throw new InvalidTokenError(realm, 'The access token is too large');

    const principal = await this.verifyUncached(token);
    // Checked after the await: a revocation may have come while the token was being verified.
    if (principal.sessionId !== undefined && this.revokedSessions.has(principal.sessionId)) {
      throw new InvalidTokenError(this.config.realm, 'The session was revoked');
    }
    const expiresAt = (principal.claims.exp as number) * 1000;
    // Read after the await: time has passed since verification checked `exp`. A TTL of 0 would be
    // "never stale" to lru-cache, so a token at or past its `exp` is not remembered at all.
    const ttl = expiresAt - this.now();
    if (ttl <= 0) throw new InvalidTokenError(this.config.realm, 'The access token expired');
    this.verified?.set(lookupKey(token), { token, header: CANONICAL_SCHEME + token, principal, expiresAt }, { ttl });
    return principal;
  }

  /**
   * The issuer picks the key set and the kind: a token naming the machine issuer is verified with
   * the machine keys and that issuer alone, any other with the user keys and the user issuers. So a
   * token verifies only with its own issuer's keys, and its kind is the issuer it was verified for.
   */
  private async verifyUncached(token: string): Promise<Principal> {
    const { realm, algorithms, issuers, audience, clockTolerance, claimNames } = this.config;
    const { machines } = this;
    const machine = machines !== undefined && unverifiedIssuer(token) === machines.issuer ? machines : undefined;
    const kind: PrincipalKind = machine === undefined ? 'user' : 'machine';
    const keys = machine?.keys ?? this.userKeys;
    try {
      const { payload } = await jwtVerify(token, keys.getKey, {
        algorithms,
        issuer: machine?.issuer ?? issuers,
        // Machine tokens are not user access tokens: `audience` and the user-token test are for those.
        audience: machine === undefined ? audience : undefined,
        clockTolerance,
        requiredClaims: ['exp', 'sub'],
      });
      const now = this.now() / 1000;
      // jose lets `exp` slip by the tolerance; an expired token is expired (exp == now included).
      if ((payload.exp as number) <= now) throw new InvalidTokenError(realm, 'The access token expired');
      if (kind === 'user' && !isUserAccessToken(payload, audience !== undefined)) {
        throw new InvalidTokenError(realm, 'The access token is not a user access token');
      }
      if (typeof payload.iat === 'number' && payload.iat > now + clockTolerance) {
        throw new InvalidTokenError(realm, 'The access token is issued in the future');
      }
      return principalFromClaims(payload, claimNames, kind);
    } catch (error) {
      throw this.translate(error, keys);
    }
  }

  private translate(error: unknown, keys: KeySet): Error {
    const { realm } = this.config;
    if (error instanceof InvalidTokenError) return error;
    if (error instanceof JwksUnavailable || (error instanceof errors.JWKSNoMatchingKey && keys.isEmpty())) {
      this.config.telemetry.unavailable('jwks');
      return new ServiceUnavailableError(JWKS_RETRY_AFTER_SECONDS, 'jwks');
    }
    if (error instanceof errors.JWTExpired) return new InvalidTokenError(realm, 'The access token expired');
    if (error instanceof ClaimTypeError) return new InvalidTokenError(realm, 'The access token has a malformed claim');
    // Whatever else went wrong while reading the token, it is not a token we can trust.
    return new InvalidTokenError(realm, 'The access token is invalid');
  }
}
