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

/** Who is calling, as the verified token says. Frozen: it may be shared by requests with the same token. */
export interface Principal {
  readonly userId: string;
  readonly organizationId?: string;
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

/** Builds the principal from a verified payload; throws ClaimTypeError on a claim of the wrong type. */
export function principalFromClaims(payload: JWTPayload, names: ClaimNames): Principal {
  const userId = optionalString(payload, 'sub');
  if (userId === undefined) throw new ClaimTypeError('sub');
  const principal: Principal = {
    userId,
    organizationId: optionalString(payload, names.organizationId),
    organizationMembershipId: optionalString(payload, names.organizationMembershipId),
    role: optionalString(payload, names.role),
    permissions: stringArray(payload, names.permissions),
    sessionId: optionalString(payload, 'sid'),
    claims: Object.freeze(payload),
  };
  return Object.freeze(principal);
}
