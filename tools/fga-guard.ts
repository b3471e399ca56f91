#!/usr/bin/env node
// `npx fga-guard doctor` and `npx fga-guard codegen`: is this environment wired right, and its slugs as types.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { WorkOS } from '@workos-inc/node';
import { createAuthorizer } from '../src/authorizer.js';
import type { RouteAudit } from '../src/audit.js';
import { describeGuard } from '../src/audit.js';
import { registerGuard } from '../src/guards.js';
import type { PreflightReport } from '../src/preflight.js';
import { auditRoutes as auditExpress } from '../adapters/express-audit.js';
import { auditRoutes as auditKoa } from '../adapters/koa-audit.js';

const USAGE = `Usage:
  fga-guard doctor [--permissions a,b] [--resource-types x,y] [--app ./server.js] [--json]
  fga-guard codegen --out src/fga.d.ts [--seed model.json]

Both read WORKOS_API_KEY and WORKOS_CLIENT_ID (and WORKOS_API_HOSTNAME, WORKOS_API_PORT,
WORKOS_API_HTTPS=false for another API host, such as the fga-guard test kit).
doctor exits 1 when a check fails; --app imports the module and audits the Express apps and
routers and Koa apps and routers it exports (their guards' slugs are checked too).`;

/** Bad input ends the process with exit code 2 and a one-line message (no stack). */
function fail(message: string): never {
  process.stderr.write(`fga-guard: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const list = (value: string | undefined) => (value ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        permissions: { type: 'string' },
        'resource-types': { type: 'string' },
        app: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

/** The client the environment variables describe (the SDK itself reads only the first two). */
function clientFromEnvironment(): WorkOS {
  const apiKey = process.env.WORKOS_API_KEY;
  const clientId = process.env.WORKOS_CLIENT_ID;
  if (!apiKey) fail('WORKOS_API_KEY is not set');
  if (!clientId) fail('WORKOS_CLIENT_ID is not set');
  const port = Number(process.env.WORKOS_API_PORT) || undefined;
  return new WorkOS(apiKey, {
    clientId,
    apiHostname: process.env.WORKOS_API_HOSTNAME || undefined,
    port,
    https: process.env.WORKOS_API_HTTPS !== 'false',
  });
}

/** Audits whatever the module exports that is an Express or Koa app or router. */
async function auditModule(path: string): Promise<Array<{ name: string; audit: RouteAudit }>> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    return fail(`cannot import ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const audits: Array<{ name: string; audit: RouteAudit }> = [];
  for (const [name, value] of Object.entries(exports)) {
    const candidate = value as { stack?: unknown; routes?: unknown; middleware?: unknown; use?: unknown } | null;
    if (candidate === null || (typeof candidate !== 'object' && typeof candidate !== 'function')) continue;
    const isKoa = Array.isArray(candidate.middleware) || (Array.isArray(candidate.stack) && typeof candidate.routes === 'function');
    const isExpress = typeof value === 'function' && typeof (value as { use?: unknown }).use === 'function';
    if (isKoa) audits.push({ name, audit: auditKoa(candidate) });
    else if (isExpress) audits.push({ name, audit: auditExpress(candidate) });
  }
  if (audits.length === 0) fail(`${path} exports no Express or Koa app or router (export the app, e.g. \`export const app = express()\`)`);
  return audits;
}

function printReport(report: PreflightReport, audits: Array<{ name: string; audit: RouteAudit }>): void {
  const lines = ['fga-guard doctor', ''];
  for (const check of report.checks) {
    lines.push(`${check.ok ? '  ok  ' : '  FAIL'} ${check.name}: ${check.message}`);
    if (!check.ok && check.hint) lines.push(`        fix: ${check.hint}`);
  }
  for (const { name, audit } of audits) {
    lines.push('', `routes of ${name}:`);
    for (const route of audit.routes) {
      const guards = route.guards.map(describeGuard).join(', ');
      lines.push(`  ${route.method.padEnd(7)}${route.path}  ${guards || (route.allowed ? '(public)' : 'NO GUARD')}`);
    }
  }
  lines.push('', report.ok ? 'Everything checked is wired right.' : 'Something is wrong: see FAIL above.', '');
  process.stdout.write(lines.join('\n'));
}

async function doctor(options: ReturnType<typeof parse>): Promise<number> {
  const workos = clientFromEnvironment();
  const authz = createAuthorizer({ workos, logger: false });
  const permissions = list(options.permissions);
  if (permissions.length > 0) registerGuard(authz, { kind: 'requirePermission', permissions });
  for (const resourceType of list(options['resource-types'])) registerGuard(authz, { kind: 'requirePermission', permissions: [], resourceType });
  const audits = options.app === undefined ? [] : await auditModule(options.app);
  for (const { audit } of audits) for (const route of audit.routes) for (const guard of route.guards) registerGuard(authz, guard);
  const report = await authz.preflight();
  if (options.json) process.stdout.write(`${JSON.stringify({ ...report, routes: audits }, null, 2)}\n`);
  else printReport(report, audits);
  return report.ok ? 0 : 1;
}

interface SeedSlugs {
  permissions: string[];
  resourceTypes: string[];
}

function slugsOfSeed(path: string): SeedSlugs {
  let seed: { resourceTypes?: Array<{ slug?: unknown }>; permissions?: Array<{ slug?: unknown }>; roles?: Array<{ permissions?: unknown }> };
  try {
    seed = JSON.parse(readFileSync(path, 'utf8')) as typeof seed;
  } catch (error) {
    return fail(`cannot read seed ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const strings = (values: unknown[]) => values.filter((value): value is string => typeof value === 'string');
  return {
    permissions: strings([...(seed.permissions ?? []).map((p) => p.slug), ...(seed.roles ?? []).flatMap((role) => (Array.isArray(role.permissions) ? role.permissions : []))]),
    resourceTypes: strings((seed.resourceTypes ?? []).map((type) => type.slug)),
  };
}

async function slugsOfEnvironment(workos: WorkOS): Promise<SeedSlugs> {
  const permissions: Array<{ slug: string; resourceTypeSlug: string }> = [];
  for (let after: string | undefined; ; ) {
    const page = await workos.authorization.listPermissions(after === undefined ? { limit: 100 } : { limit: 100, after });
    permissions.push(...page.data);
    after = page.listMetadata?.after ?? undefined;
    if (!after || page.data.length === 0) break;
  }
  const roles = await workos.authorization.listEnvironmentRoles();
  return {
    permissions: permissions.map((p) => p.slug),
    resourceTypes: [...permissions.map((p) => p.resourceTypeSlug), ...roles.data.map((role) => role.resourceTypeSlug)].filter((slug) => slug !== 'organization'),
  };
}

const union = (slugs: string[]) => {
  const sorted = [...new Set(slugs)].sort();
  return sorted.length === 0 ? 'never' : sorted.map((slug) => `\n  | ${JSON.stringify(slug)}`).join('');
};

function renderSlugTypes(slugs: SeedSlugs, source: string): string {
  return `// Generated by \`fga-guard codegen\` from ${source}. Do not edit: run it again after changing the environment.

/** The permission slugs of the WorkOS environment. */
export type PermissionSlug =${union(slugs.permissions)};

/** The resource type slugs of the WorkOS environment. */
export type ResourceTypeSlug =${union(slugs.resourceTypes)};

/** For \`createAuthorizer<FgaSlugs>()\`: guards and checks then take only these slugs. */
export interface FgaSlugs {
  permissions: PermissionSlug;
  resourceTypes: ResourceTypeSlug;
}
`;
}

async function codegen(options: ReturnType<typeof parse>): Promise<number> {
  if (options.out === undefined) fail('codegen needs --out <file>, e.g. --out src/fga.d.ts');
  const slugs = options.seed === undefined ? await slugsOfEnvironment(clientFromEnvironment()) : slugsOfSeed(options.seed);
  writeFileSync(options.out, renderSlugTypes(slugs, options.seed === undefined ? 'the WorkOS API' : `the test-kit seed ${options.seed}`));
  process.stdout.write(`fga-guard: wrote ${new Set(slugs.permissions).size} permission slugs and ${new Set(slugs.resourceTypes).size} resource types to ${options.out}\n`);
  return 0;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const options = parse(rest);
  if (options.help || command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(command === undefined ? 2 : 0);
  }
  if (command !== 'doctor' && command !== 'codegen') fail(`unknown command ${command}`);
  try {
    // An imported app may keep the event loop busy (a listening server): exit explicitly.
    process.exit(command === 'doctor' ? await doctor(options) : await codegen(options));
  } catch (error) {
    process.stderr.write(`fga-guard: ${command} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}

void main();
