/**
 * Every answer fga-guard gives on its own is one of these errors. Each carries the HTTP `status`, a
 * machine-readable `code` and the response `headers`, so an adapter (or your own error handler) only
 * has to copy them onto the response. Messages are fixed strings: never a token, a claim value or an
 * upstream error text.
 */
export abstract class FgaGuardError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Safe to show to the client (Koa and Express error handlers read this). */
  readonly expose = true;

  constructor(message: string, headers: Record<string, string>) {
    super(message);
    this.name = new.target.name;
    this.headers = Object.freeze({ ...headers });
  }

  /** The same as `status`, for error handlers that read `statusCode`. */
  get statusCode(): number {
    return this.status;
  }
}

/** Characters RFC 6750 §3 allows inside a quoted auth-param value (no `"`, no `\`, no CR/LF). */
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export function assertQuotable(value: string, what: string): void {
  if (!QUOTABLE.test(value)) {
    throw new TypeError(`fga-guard: ${what} may only hold printable ASCII without '"' or '\\'`);
  }
}

function bearerChallenge(realm: string, params: Record<string, string> = {}): string {
  let challenge = `Bearer realm="${realm}"`;
  for (const [name, value] of Object.entries(params)) challenge += `, ${name}="${value}"`;
  return challenge;
}

/** 401 without an error code: the request carried no bearer token at all (RFC 6750 §3.1). */
export class UnauthorizedError extends FgaGuardError {
  readonly status = 401;
  readonly code = 'unauthorized';
  constructor(realm: string) {
    super('Authentication required', { 'WWW-Authenticate': bearerChallenge(realm) });
  }
}

/** 400: the Authorization header is malformed (empty bearer, more than one token). */
export class InvalidRequestError extends FgaGuardError {
  readonly status = 400;
  readonly code = 'invalid_request';
  constructor(realm: string, description: string) {
    super(description, {
      'WWW-Authenticate': bearerChallenge(realm, { error: 'invalid_request', error_description: description }),
    });
  }
}

/** 401: the token is malformed, expired, wrongly signed or carries claims of the wrong shape. */
export class InvalidTokenError extends FgaGuardError {
  readonly status = 401;
  readonly code = 'invalid_token';
  constructor(realm: string, description: string) {
    super(description, {
      'WWW-Authenticate': bearerChallenge(realm, { error: 'invalid_token', error_description: description }),
    });
  }
}

/** 403: authenticated, but the permission is not granted (on that resource). */
export class ForbiddenError extends FgaGuardError {
  readonly status = 403;
  readonly code = 'forbidden';
  constructor(
    realm: string,
    readonly permission: string,
  ) {
    super('Permission denied', {
      'WWW-Authenticate': bearerChallenge(realm, {
        error: 'insufficient_scope',
        error_description: 'Permission denied',
      }),
    });
  }
}

/**
 * 503: the decision could not be made (JWKS or the WorkOS API unreachable, slow, rate limited or
 * answering nonsense). Never a 401 or a 200: nothing is known about the token or the grant.
 */
export class ServiceUnavailableError extends FgaGuardError {
  readonly status = 503;
  readonly code = 'unavailable';
  constructor(
    readonly retryAfterSeconds: number,
    readonly reason: UnavailableReason,
  ) {
    super('Authorization is temporarily unavailable', { 'Retry-After': String(retryAfterSeconds) });
  }
}

/**
 * A write (`authz.resources.*`, `authz.roles.*`) that WorkOS refused because of its input: an
 * unknown role, a role on the wrong resource type, a missing parent, children left without
 * `cascade`. `status` and `code` are WorkOS's; the message says which write and why.
 */
export class WorkOSRequestError extends FgaGuardError {
  readonly status: number;
  readonly code: string;
  constructor(
    /** Which write, e.g. 'roles.assign'. */
    readonly operation: string,
    status: number,
    code: string | undefined,
    workosMessage: string,
  ) {
    super(`fga-guard: ${operation} was refused by WorkOS (${status}${code ? ` ${code}` : ''}): ${workosMessage}`, {});
    this.status = status;
    this.code = code ?? 'workos_request_error';
  }
}

/** 400: a webhook delivery whose `WorkOS-Signature` is missing, wrong or stale; nothing was changed. */
export class WebhookError extends FgaGuardError {
  readonly status = 400;
  readonly code = 'invalid_webhook';
  constructor(message: string) {
    super(message, {});
  }
}

export type UnavailableReason = 'jwks' | 'timeout' | 'rate_limited' | 'upstream' | 'malformed_response';

export function isFgaGuardError(error: unknown): error is FgaGuardError {
  return error instanceof FgaGuardError;
}

export interface ErrorResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: { error: string; message: string; permission?: string };
}

/** What an adapter sends for an fga-guard error; use it to render errors yourself. */
export function toErrorResponse(error: FgaGuardError): ErrorResponse {
  const body: ErrorResponse['body'] = { error: error.code, message: error.message };
  if (error instanceof ForbiddenError) body.permission = error.permission;
  // An authorization answer is about one caller at one moment: no shared cache may keep it.
  return { status: error.status, headers: { ...error.headers, 'Cache-Control': 'no-store' }, body };
}
