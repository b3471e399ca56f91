// `authz.preflight()`: is the authorizer wired to the right WorkOS environment? A report, never a throw.
import type { WorkOS } from '@workos-inc/node';
import type { ResolvedConfig } from './config.js';
import { namedSlugs } from './guards.js';
import { callWithinBudget, everyPage, UpstreamRefusal } from './upstream.js';
import { ServiceUnavailableError } from './errors.js';

export type PreflightCheckName = 'api_key_format' | 'client_id_format' | 'issuer' | 'api_key' | 'jwks' | 'machine_jwks' | 'permissions' | 'resource_types';

export interface PreflightCheck {
  readonly name: PreflightCheckName;
  readonly ok: boolean;
  readonly message: string;
  /** How to fix it (findings only). */
  readonly hint?: string;
}

export interface PreflightReport {
  /** Every check passed. */
  readonly ok: boolean;
  readonly checks: readonly PreflightCheck[];
}

/** Preflight is not on the request path: each call gets more room than a decision does. */
const CALL_BUDGET_MS = 10_000;
/** Permissions without a resource type are organization-level; it is not a type a guard names. */
const ORGANIZATION_TYPE = 'organization';

const pass = (name: PreflightCheckName, message: string): PreflightCheck => ({ name, ok: true, message });
const fail = (name: PreflightCheckName, message: string, hint: string): PreflightCheck => ({ name, ok: false, message, hint });

export async function runPreflight(config: ResolvedConfig, authz: object): Promise<PreflightReport> {
  const named = namedSlugs(authz);
  const checks: PreflightCheck[] = [apiKeyFormat(config.client), clientIdFormat(config.clientId), issuers(config)];
  const budget = Math.max(config.timeout, CALL_BUDGET_MS);
  const [environment, jwks, machineJwks] = await Promise.all([
    readEnvironment(config.client, budget),
    jwksCheck('jwks', config.jwksUrl, budget, {
      notFound: `The client id (${config.clientId}) is not known to WorkOS: set WORKOS_CLIENT_ID (or clientId) to this environment's client id.`,
      empty: 'Check that jwksUrl points at a WorkOS JWKS (…/sso/jwks/<client id>).',
    }),
    config.machines &&
      jwksCheck('machine_jwks', config.machines.jwksUrl, budget, {
        notFound: 'Check machines.issuer: it is your AuthKit domain (https://<subdomain>.authkit.app), whose keys are at /oauth2/jwks; or set machines.jwksUrl.',
        empty: 'Check that machines.jwksUrl points at the AuthKit domain\'s JWKS (<AuthKit domain>/oauth2/jwks).',
      }),
  ]);
  checks.push(environment.check, jwks);
  if (machineJwks !== undefined) checks.push(machineJwks);
  if (environment.permissions === undefined) {
    const why = 'not checked: the permissions could not be listed (see api_key)';
    checks.push(fail('permissions', why, 'Fix the API key first.'), fail('resource_types', why, 'Fix the API key first.'));
  } else {
    checks.push(permissionsCheck(named.permissions, environment.permissions), await resourceTypesCheck(config.client, budget, named.resourceTypes, environment.resourceTypes));
  }
  return { ok: checks.every((check) => check.ok), checks };
}

function apiKeyFormat(client: WorkOS): PreflightCheck {
  const key = (client as { key?: unknown }).key;
  if (typeof key !== 'string') return pass('api_key_format', 'the WorkOS client was given without a key to look at');
  return key.startsWith('sk_')
    ? pass('api_key_format', 'the API key looks like a WorkOS secret key (sk_…)')
    : fail('api_key_format', 'the API key does not start with sk_', 'Use a secret key from the WorkOS dashboard (API Keys), not a client id or a publishable key.');
}

function clientIdFormat(clientId: string): PreflightCheck {
  return clientId.startsWith('client_')
    ? pass('client_id_format', `the client id ${clientId} looks like a WorkOS client id (client_…)`)
    : fail('client_id_format', `the client id ${clientId} does not start with client_`, 'Use the client id from the WorkOS dashboard (API Keys), for the same environment as the API key.');
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

function issuers(config: ResolvedConfig): PreflightCheck {
  const wrong: string[] = [];
  for (const issuer of config.issuers) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      wrong.push(`${issuer} is not a URL`);
      continue;
    }
    if (url.protocol !== 'https:' && !LOOPBACK.test(url.hostname)) wrong.push(`${issuer} is not https`);
    const [, clientId] = /\/user_management\/([^/]+)\/?$/.exec(url.pathname) ?? [];
    if (clientId !== undefined && clientId !== config.clientId) wrong.push(`${issuer} names client ${clientId}, not ${config.clientId}`);
  }
  return wrong.length === 0
    ? pass('issuer', `tokens are accepted from ${config.issuers.join(', ')}`)
    : fail('issuer', wrong.join('; '), 'AuthKit issuers are https://api.workos.com, https://api.workos.com/user_management/<client id>, or your custom auth domain; leave `issuer` unset for the first two.');
}

interface Environment {
  check: PreflightCheck;
  permissions?: readonly { slug: string; resourceTypeSlug: string }[];
  resourceTypes: ReadonlySet<string>;
}

/** Lists the environment's permissions and roles: proves the API key, and gives the slugs to compare. */
async function readEnvironment(client: WorkOS, budget: number): Promise<Environment> {
  let refusedStatus: number | undefined;
  const call = <T>(run: () => Promise<T>) =>
    callWithinBudget(Date.now() + budget, () =>
      run().catch((error: unknown) => {
        const status = (error as { status?: unknown } | null)?.status;
        if (status === 401 || status === 403) refusedStatus = status;
        throw error;
      }),
    );
  try {
    const { items } = await everyPage((page) => call(() => client.authorization.listPermissions(page)));
    const permissions = items.map(({ slug, resourceTypeSlug }) => ({ slug, resourceTypeSlug }));
    const roles = await call(() => client.authorization.listEnvironmentRoles());
    const resourceTypes = new Set([...permissions.map((p) => p.resourceTypeSlug), ...roles.data.map((role) => role.resourceTypeSlug)]);
    resourceTypes.delete(ORGANIZATION_TYPE);
    return { check: pass('api_key', `WorkOS accepted the API key (${permissions.length} permissions, ${roles.data.length} environment roles)`), permissions, resourceTypes };
  } catch (error) {
    return { check: apiKeyFailure(error, refusedStatus), resourceTypes: new Set() };
  }
}

function apiKeyFailure(error: unknown, refusedStatus: number | undefined): PreflightCheck {
  if (error instanceof UpstreamRefusal) {
    return fail('api_key', `WorkOS refused to list permissions (${error.status} ${error.code ?? ''}): ${error.message}`, 'Check that the API key belongs to an environment with Authorization (FGA) enabled.');
  }
  if (refusedStatus !== undefined) {
    return fail('api_key', `WorkOS refused the API key (${refusedStatus})`, 'Set WORKOS_API_KEY (or apiKey) to a secret key (sk_…) of this environment that has not been revoked.');
  }
  const why = error instanceof ServiceUnavailableError ? error.reason : 'unknown error';
  return fail('api_key', `WorkOS could not be reached to check the API key (${why})`, 'Check the network path to the WorkOS API (apiHostname, proxies, firewall) and try again.');
}

/** A JWKS that can be fetched and holds keys; `hints` say what to fix when it answers 404 or holds none. */
async function jwksCheck(name: 'jwks' | 'machine_jwks', jwksUrl: URL, budget: number, hints: { notFound: string; empty: string }): Promise<PreflightCheck> {
  const url = jwksUrl.href;
  const option = name === 'jwks' ? 'jwksUrl' : 'machines.jwksUrl';
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(budget) });
  } catch {
    return fail(name, `the JWKS at ${url} could not be fetched`, `Check the network path to ${name === 'jwks' ? 'WorkOS' : 'the AuthKit domain'}, or the ${option} option.`);
  }
  if (response.status === 404) return fail(name, `the JWKS at ${url} answered 404`, hints.notFound);
  if (response.status !== 200) return fail(name, `the JWKS at ${url} answered ${response.status}`, `Check the ${option} option and the network path to it.`);
  const body = (await response.json().catch(() => undefined)) as { keys?: unknown } | undefined;
  const count = Array.isArray(body?.keys) ? body.keys.length : 0;
  return count > 0 ? pass(name, `the JWKS at ${url} holds ${count} key${count === 1 ? '' : 's'}`) : fail(name, `the JWKS at ${url} holds no keys`, hints.empty);
}

function permissionsCheck(named: readonly string[], known: readonly { slug: string }[]): PreflightCheck {
  const slugs = known.map((permission) => permission.slug);
  const missing = named.filter((slug) => !slugs.includes(slug));
  if (named.length === 0) return pass('permissions', 'no guard names a permission yet (preflight checks the guards made before it runs)');
  if (missing.length === 0) return pass('permissions', `all ${named.length} permission slugs named by guards exist`);
  return fail(
    'permissions',
    `permission slugs named by guards but not in this environment: ${missing.map((slug) => describeMissing(slug, slugs)).join(', ')}`,
    'Create them in the WorkOS dashboard (Authorization > Permissions) or fix the guards; every check of a missing permission is denied.',
  );
}

/**
 * The API lists no resource types: a type is known when a permission or role names it, or else
 * when a resource of that type exists.
 */
async function resourceTypesCheck(client: WorkOS, budget: number, named: readonly string[], known: ReadonlySet<string>): Promise<PreflightCheck> {
  const missing: string[] = [];
  for (const slug of named) {
    if (known.has(slug)) continue;
    const found = await callWithinBudget(Date.now() + budget, () => client.authorization.listResources({ resourceTypeSlug: slug, limit: 1 })).then(
      (page) => page.data.length > 0,
      () => false,
    );
    if (!found) missing.push(slug);
  }
  if (named.length === 0) return pass('resource_types', 'no guard names a resource type in a literal resource');
  if (missing.length === 0) return pass('resource_types', `all ${named.length} resource types named by guards exist`);
  return fail(
    'resource_types',
    `resource types named by guards but named by no permission, role or resource of this environment: ${missing.map((slug) => describeMissing(slug, [...known])).join(', ')}`,
    'Resource type slugs are case-sensitive: use the slug from the WorkOS dashboard (Authorization > Resource types).',
  );
}

/** `"projct:edit" (did you mean "project:edit"?)`: the closest known slug, when one is close. */
function describeMissing(slug: string, known: readonly string[]): string {
  const closest = known
    .map((candidate) => ({ candidate, distance: candidate.toLowerCase() === slug.toLowerCase() ? 0 : editDistance(slug, candidate) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return closest !== undefined && closest.distance <= 2 ? `"${slug}" (did you mean "${closest.candidate}"?)` : `"${slug}"`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
