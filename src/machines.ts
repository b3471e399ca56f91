// Machine callers: client-credentials (M2M) tokens from an AuthKit domain, as opposed to users'
// AuthKit access tokens. Their option, its validation, and the membership a machine maps to.
import type { Principal } from './claims.js';
import { isPromiseLike, type Settling } from './settling.js';

/** What `machines.membership` may answer: an organization membership id, or none. */
export type MachineMembership = string | null | undefined;

export interface MachineOptions {
  /**
   * The AuthKit domain, exactly as machine tokens carry it in `iss` (e.g. `https://acme.authkit.app`).
   * Tokens with this issuer are machine tokens, verified against `jwksUrl`; it must not be a user issuer.
   */
  issuer: string;
  /** Default: `<issuer>/oauth2/jwks`. */
  jwksUrl?: string | URL;
  /**
   * The organization membership whose FGA role assignments decide for a machine (null/undefined:
   * none, and the token's permissions alone decide). Called when the token does not hold the permission.
   */
  membership?: (principal: Principal) => MachineMembership | PromiseLike<MachineMembership>;
}

export interface ResolvedMachines {
  readonly issuer: string;
  readonly jwksUrl: URL;
  readonly membership: MachineOptions['membership'];
}

function fail(message: string): never {
  throw new TypeError(`fga-guard: ${message}`);
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/** `machines` checked; undefined when machine tokens are not accepted. */
export function resolveMachines(machines: unknown, userIssuers: readonly string[]): ResolvedMachines | undefined {
  if (machines === undefined) return undefined;
  if (typeof machines !== 'object' || machines === null) fail('machines must be { issuer, jwksUrl?, membership? }');
  const { issuer, jwksUrl, membership } = machines as Partial<MachineOptions>;
  if (typeof issuer !== 'string' || issuer.length === 0 || !isHttpUrl(issuer)) {
    fail('machines.issuer must be the AuthKit domain as an https URL, e.g. "https://acme.authkit.app"');
  }
  // The issuer is what tells a machine token from a user's: one issuer cannot be both.
  if (userIssuers.includes(issuer)) fail(`machines.issuer (${issuer}) is also a user issuer: machine and user tokens must come from different issuers`);
  if (membership !== undefined && typeof membership !== 'function') fail('machines.membership must be a function of the principal');
  let keys: URL;
  try {
    keys = new URL(jwksUrl ?? `${issuer.replace(/\/+$/, '')}/oauth2/jwks`);
  } catch {
    fail('machines.jwksUrl must be an absolute URL');
  }
  return { issuer, jwksUrl: keys, membership };
}

function checkedMembership(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0) fail('machines.membership must return an organization membership id (om_…), null or undefined');
  return value;
}

/** The membership a machine maps to (null: none); never looked up by user id. */
export function machineMembership(machines: ResolvedMachines | undefined, principal: Principal): Settling<string | null> {
  const map = machines?.membership;
  if (map === undefined) return null;
  const mapped = map(principal);
  return isPromiseLike(mapped) ? Promise.resolve(mapped).then(checkedMembership) : checkedMembership(mapped);
}

