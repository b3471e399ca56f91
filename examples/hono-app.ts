import { Hono } from 'hono';
import { errorHandler, requireAnyPermission, requireAuth, requirePermission } from '../adapters/hono.js';
import type { Authorizer } from '../src/index.js';
import { asResource, projectsIn } from './projects.js';

/** The same API as express-app.ts, on Hono: runs on Node here, and as it is on Workers, Deno or Bun. */
export function createHonoApp(authz: Authorizer): Hono {
  const app = new Hono();

  app.get('/me', requireAuth(authz), (c) => {
    const auth = c.get('auth');
    return c.json({ user: auth.userId, organization: auth.organizationId, role: auth.role });
  });

  app.get('/billing', requirePermission(authz, 'billing:view'), (c) => c.json({ plan: 'enterprise', seats: 42 }));

  app.get(
    '/workspaces/:id',
    requirePermission(authz, 'workspace:view', { resource: (c) => ({ type: 'workspace', externalId: String(c.req.param('id')) }) }),
    (c) => c.json({ workspace: c.req.param('id') }),
  );

  app.get('/projects', requireAuth(authz), async (c) => {
    const workspace = c.req.query('workspace') ?? 'ws-1';
    const visible = await authz.filterAccessible(c.get('auth'), 'project:view', projectsIn(workspace), asResource, {
      parent: { type: 'workspace', externalId: workspace },
    });
    return c.json({ workspace, projects: visible.map((project) => project.id) });
  });

  app.get(
    '/projects/:id',
    requireAnyPermission(authz, ['project:view', 'project:edit'], { resource: (c) => ({ type: 'project', externalId: String(c.req.param('id')) }) }),
    (c) => c.json({ project: c.req.param('id'), via: c.get('authDecision').permission }),
  );

  app.patch(
    '/projects/:id',
    requirePermission(authz, 'project:edit', { resource: (c) => ({ type: 'project', externalId: String(c.req.param('id')) }) }),
    (c) => c.json({ project: c.req.param('id'), updated: true, by: c.get('auth').userId, decidedBy: c.get('authDecision').source }),
  );

  app.post(
    '/apps/:id/deploy',
    requirePermission(authz, 'app:deploy', { resource: (c) => ({ type: 'app', externalId: String(c.req.param('id')) }) }),
    (c) => c.json({ app: c.req.param('id'), deploying: true }, 202),
  );

  // fga-guard's errors thrown in handlers (a 503 from filterAccessible, say) answer like the guards'.
  app.onError(errorHandler());
  return app;
}
