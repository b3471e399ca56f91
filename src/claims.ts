import type { JWTPayload } from 'jose';

/** Where the principal's fields are read from in the token; dot paths reach nested claims. */
export interface ClaimNames {
  organizationId: string;
  organizationMembershipId: string;
  permissions: string;
  role: string;
}

export const DEFAULT_CLAIM_NAMES: Readonly<ClaimNames> = Object.freeze({
  organizationId: 'org_id',
  organizationMembershipId: 'organization_membership_id',
  permissions: 'permissions',
  role: 'role',
});

/** 'user': an AuthKit access token. 'machine': a client-credentials token from `machines.issuer`. */
export type PrincipalKind = 'user' | 'machine';

/** Who is calling, as the verified token says. Frozen: it may be shared by requests with the same token. */
export interface Principal {
  readonly kind: PrincipalKind;
  /** The token's `sub`: the user id, or for a machine the application's client id. */
  readonly userId: string;
  readonly organizationId?: string;
  /** From the token's claim; never set for a machine (its membership comes from `machines.membership`). */
  readonly organizationMembershipId?: string;
  readonly role?: string;
  readonly permissions: readonly string[];
  readonly sessionId?: string;
  /** The whole verified payload. */
  readonly claims: Readonly<JWTPayload>;
}

/** A claim whose value has the wrong type; the token is rejected as invalid. */
export class ClaimTypeError extends Error {}

/** The claim named `path` exactly (namespaced claims hold dots), else the nested claim it walks to. */
function readPath(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  if (!path.includes('.')) return undefined;
  let value: unknown = payload;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function optionalString(payload: JWTPayload, path: string): string | undefined {
  const value = readPath(payload, path);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new ClaimTypeError(path);
  return value;
}

function stringArray(payload: JWTPayload, path: string): readonly string[] {
  const value = readPath(payload, path);
  if (value === undefined || value === null) return Object.freeze([]);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new ClaimTypeError(path);
  return Object.freeze([...value]);
}

/**
 * A machine's permissions: its permissions claim and, as OAuth client credentials grant them, the
 * space-separated `scope` claim (RFC 8693 §4.2), whichever it carries.
 */
function machinePermissions(payload: JWTPayload, names: ClaimNames): readonly string[] {
  const permissions = stringArray(payload, names.permissions);
  const scope = payload.scope;
  if (scope === undefined || scope === null) return permissions;
  if (typeof scope !== 'string') throw new ClaimTypeError('scope');
  const scopes = scope.split(' ').filter((item) => item.length > 0);
  return Object.freeze([...new Set([...permissions, ...scopes])]);
}

/** Builds the principal from a verified payload; throws ClaimTypeError on a claim of the wrong type. */
export function principalFromClaims(payload: JWTPayload, names: ClaimNames, kind: PrincipalKind = 'user'): Principal {
  const userId = optionalString(payload, 'sub');
  if (userId === undefined) throw new ClaimTypeError('sub');
  const machine = kind === 'machine';
  const principal: Principal = {
    kind,
    userId,
    organizationId: optionalString(payload, names.organizationId),
    organizationMembershipId: machine ? undefined : optionalString(payload, names.organizationMembershipId),
    role: optionalString(payload, names.role),
    permissions: machine ? machinePermissions(payload, names) : stringArray(payload, names.permissions),
    sessionId: optionalString(payload, 'sid'),
    claims: Object.freeze(payload),
  };
  return Object.freeze(principal);
}
