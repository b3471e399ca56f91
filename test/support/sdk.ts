import { WorkOS } from '@workos-inc/node';

/** The major version of the installed @workos-inc/node (CI runs the suite on 11 and on 12). */
export const sdkMajor = Number(new WorkOS('sk_test_version', { clientId: 'client_version' }).version.split('.')[0]);

/**
 * A timestamp the SDK handed over, in ms: SDK 11 gives the wire's ISO string, SDK 12 a Date. NaN for
 * anything else, and for a string or Date that names no instant.
 */
export function instant(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}

/** The type SDK `sdkMajor` gives createdAt and updatedAt. */
export const timestampType: 'string' | 'Date' = sdkMajor >= 12 ? 'Date' : 'string';
