// Compile-time tests, checked by `npm run typecheck` (tsc): every `@ts-expect-error` must meet an error.
import { createAuthorizer, type Principal } from '../../src/index.js';
import * as express from '../../adapters/express.js';
import * as koa from '../../adapters/koa.js';
import * as fastify from '../../adapters/fastify.js';
import * as hono from '../../adapters/hono.js';
// What `fga-guard codegen --seed` writes for test/support/model.ts (test/doctor-cli.test.ts proves it).
import type { FgaSlugs } from './fga.js';

export function typedSlugs(principal: Principal): void {
  const typed = createAuthorizer<FgaSlugs>({ apiKey: 'sk_test', clientId: 'client_test' });

  express.requirePermission(typed, 'project:edit');
  // @ts-expect-error a typo is a compile error
  express.requirePermission(typed, 'projct:edit');
  express.requireAnyPermission(typed, ['project:view', 'workspace:view']);
  // @ts-expect-error every slug of the list is checked
  express.requireAllPermissions(typed, ['project:view', 'workspace:veiw']);

  koa.requirePermission(typed, 'project:view', { resource: { type: 'project', externalId: 'p1' } });
  // @ts-expect-error a typo is a compile error
  koa.requirePermission(typed, 'projct:edit');
  // @ts-expect-error any
  koa.requireAnyPermission(typed, ['nope']);

  fastify.requirePermission(typed, 'workspace:view');
  // @ts-expect-error a typo is a compile error
  fastify.requirePermission(typed, 'projct:edit');
  // @ts-expect-error all
  fastify.requireAllPermissions(typed, ['project:edit', 'Project:view']);

  hono.requirePermission(typed, 'project:edit');
  // @ts-expect-error a typo is a compile error
  hono.requirePermission(typed, 'projct:edit');
  // @ts-expect-error any
  hono.requireAnyPermission(typed, ['project:vew']);

  void typed.check(principal, 'project:edit', { type: 'project', externalId: 'p1' });
  // @ts-expect-error check takes only known permission slugs
  void typed.check(principal, 'projct:edit');
  // @ts-expect-error and only known resource types (slugs are case-sensitive)
  void typed.can(principal, 'project:edit', { type: 'Project', externalId: 'p1' });
  // @ts-expect-error explain too
  void typed.explain(principal, 'projct:edit', { id: 'authz_resource_1' });

  // Untyped use keeps taking any string.
  const untyped = createAuthorizer({ apiKey: 'sk_test', clientId: 'client_test' });
  express.requirePermission(untyped, 'anything:goes');
  koa.requireAllPermissions(untyped, ['a', 'b']);
  fastify.requireAnyPermission(untyped, ['a']);
  hono.requirePermission(untyped, 'a', { resource: { type: 'Whatever', externalId: 'x' } });
  void untyped.check(principal, 'x:y', { type: 'any', externalId: 'z' });
}
