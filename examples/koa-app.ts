import Router from '@koa/router';
import Koa from 'koa';
import { errorHandler, requireAnyPermission, requireAuth, requirePermission } from '../adapters/koa.js';
import type { Authorizer } from '../src/index.js';
import { asResource, projectsIn } from './projects.js';

/** The same API as express-app.ts, on Koa. */
export function createKoaApp(authz: Authorizer): Koa {
  const app = new Koa();
  const router = new Router();
  // fga-guard's errors thrown in handlers (a 503 from filterAccessible, say) answer like the guards'.
  app.use(errorHandler());

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

  router.get('/projects', requireAuth(authz), async (ctx) => {
    const workspace = String(ctx.query.workspace ?? 'ws-1');
    const visible = await authz.filterAccessible(ctx.state.auth!, 'project:view', projectsIn(workspace), asResource, {
      parent: { type: 'workspace', externalId: workspace },
    });
    ctx.body = { workspace, projects: visible.map((project) => project.id) };
  });

  router.get(
    '/projects/:id',
    requireAnyPermission(authz, ['project:view', 'project:edit'], { resource: (ctx) => ({ type: 'project', externalId: String(ctx.params.id) }) }),
    (ctx) => {
      ctx.body = { project: ctx.params.id, via: ctx.state.authDecision?.permission };
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
