import Router from '@koa/router';
import Koa from 'koa';
import { requireAuth, requirePermission } from '../adapters/koa.js';
import type { Authorizer } from '../src/index.js';

/** The same API as express-app.ts, on Koa. */
export function createKoaApp(authz: Authorizer): Koa {
  const app = new Koa();
  const router = new Router();

  router.get('/me', requireAuth(authz), (ctx) => {
    ctx.body = { user: ctx.state.auth?.userId, organization: ctx.state.auth?.organizationId, role: ctx.state.auth?.role };
  });

  router.get('/billing', requirePermission(authz, 'billing:view'), (ctx) => {
    ctx.body = { plan: 'enterprise', seats: 42 };
  });

  router.get(
    '/workspaces/:id',
    requirePermission(authz, 'workspace:view', { resource: (ctx) => ({ type: 'workspace', externalId: String(ctx.params.id) }) }),
    (ctx) => {
      ctx.body = { workspace: ctx.params.id };
    },
  );

  router.patch(
    '/projects/:id',
    requirePermission(authz, 'project:edit', { resource: (ctx) => ({ type: 'project', externalId: String(ctx.params.id) }) }),
    (ctx) => {
      ctx.body = { project: ctx.params.id, updated: true, by: ctx.state.auth?.userId, decidedBy: ctx.state.authDecision?.source };
    },
  );

  router.post(
    '/apps/:id/deploy',
    requirePermission(authz, 'app:deploy', { resource: (ctx) => ({ type: 'app', externalId: String(ctx.params.id) }) }),
    (ctx) => {
      ctx.status = 202;
      ctx.body = { app: ctx.params.id, deploying: true };
    },
  );

  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
