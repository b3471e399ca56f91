import { randomUUID } from 'node:crypto';
import type { SigningKeys } from './keys.js';
import type { FgaModel } from './model.js';
import { generateId } from './wire.js';

export interface MintTokenOptions {
  user: string;
  organization: string;
  membership?: string;
  permissions?: string[];
  role?: string;
  roles?: string[];
  /** Seconds; default 300; negative = already expired. */
  expiresIn?: number;
  /** Default: a generated `session_…`. */
  sessionId?: string;
  /** Merged last; a key set to undefined is removed from the payload. */
  claims?: Record<string, unknown>;
  /** Sign even when the model does not hold the user, organization or membership (negative tests). */
  unchecked?: boolean;
}

/** Refuses a token for someone the model does not hold: such a test would pass or fail for the wrong reason. */
function assertKnown(model: FgaModel, options: MintTokenOptions): void {
  const refuse = (problem: string) => {
    throw new TypeError(`mintToken: ${problem}; seed it first, or pass { unchecked: true } to mint a token for a stranger on purpose.`);
  };
  if (!model.hasUser(options.user)) refuse(`the kit's model holds no user ${options.user}`);
  if (!model.hasOrganization(options.organization)) refuse(`the kit's model holds no organization ${options.organization}`);
  if (options.membership === undefined) return;
  const membership = model.findMembershipById(options.membership);
  if (membership === undefined) refuse(`the kit's model holds no organization membership ${options.membership}`);
  else if (membership.userId !== options.user || membership.organizationId !== options.organization) {
    refuse(`membership ${options.membership} is ${membership.userId}'s in ${membership.organizationId}, not ${options.user}'s in ${options.organization}`);
  }
}

const DEFAULT_LIFETIME_SECONDS = 300;

/**
 * An AuthKit-shaped access token. Without `role`, it is the role of the user's membership in the
 * organization; without `permissions`, they are that role's (as AuthKit puts them in the token).
 */
export function mintAccessToken(keys: Pick<SigningKeys, 'sign'>, model: FgaModel, issuer: string, options: MintTokenOptions): string {
  if (!options.unchecked) assertKnown(model, options);
  const role = options.role ?? model.findMembership(options.user, options.organization)?.roleSlug;
  const permissions = options.permissions ?? (role === undefined ? [] : model.rolePermissions(options.organization, role));
  const issuedAt = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: issuer,
    sub: options.user,
    org_id: options.organization,
    role,
    roles: options.roles ?? (role === undefined ? undefined : [role]),
    permissions,
    sid: options.sessionId ?? generateId('session'),
    jti: randomUUID(),
    iat: issuedAt,
    // AuthKit mints it beside sid; SDK 12's userManagement.verifyAccessToken() refuses a token without it.
    auth_time: issuedAt,
    exp: issuedAt + (options.expiresIn ?? DEFAULT_LIFETIME_SECONDS),
    ...(options.membership === undefined ? {} : { organization_membership_id: options.membership }),
    ...options.claims,
  };
  return keys.sign(payload);
}

export interface MintMachineTokenOptions {
  /** The application's client id: the token's `sub`. */
  clientId: string;
  /** The organization the application acts in: `org_id`. */
  organization: string;
  /** Left out of the token when not given. */
  permissions?: string[];
  /** Seconds; default 300; negative = already expired. */
  expiresIn?: number;
  /** Merged last; a key set to undefined is removed from the payload. */
  claims?: Record<string, unknown>;
  /** Sign even when the model does not hold the organization (negative tests). */
  unchecked?: boolean;
}

/** Refuses options that would mint a token no test means: a clear TypeError, as mintToken's refusals. */
function assertMachineOptions(model: FgaModel, options: MintMachineTokenOptions): void {
  const refuse = (problem: string) => {
    throw new TypeError(`mintMachineToken: ${problem}.`);
  };
  if (typeof options !== 'object' || options === null) refuse('takes { clientId, organization, permissions? }');
  if (typeof options.clientId !== 'string' || options.clientId === '') refuse('clientId must be a non-empty string (the application\'s client id)');
  if (typeof options.organization !== 'string' || options.organization === '') refuse('organization must be a non-empty string');
  if (options.permissions !== undefined && (!Array.isArray(options.permissions) || !options.permissions.every((p) => typeof p === 'string' && p !== ''))) {
    refuse('permissions must be an array of permission slugs');
  }
  if (options.expiresIn !== undefined && !Number.isFinite(options.expiresIn)) refuse('expiresIn must be a number of seconds');
  if (!options.unchecked && !model.hasOrganization(options.organization)) {
    refuse(`the kit's model holds no organization ${options.organization}; seed it first, or pass { unchecked: true } to mint a token for a stranger on purpose`);
  }
}

/** A WorkOS Connect client-credentials (M2M) token: no user, no session. */
export function mintMachineAccessToken(keys: Pick<SigningKeys, 'sign'>, model: FgaModel, issuer: string, options: MintMachineTokenOptions): string {
  assertMachineOptions(model, options);
  const issuedAt = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: issuer,
    sub: options.clientId,
    org_id: options.organization,
    ...(options.permissions === undefined ? {} : { permissions: [...options.permissions] }),
    jti: randomUUID(),
    iat: issuedAt,
    exp: issuedAt + (options.expiresIn ?? DEFAULT_LIFETIME_SECONDS),
    ...options.claims,
  };
  return keys.sign(payload);
}
