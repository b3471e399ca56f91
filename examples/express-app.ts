import express from 'express';
import { errorHandler, requireAnyPermission, requireAuth, requirePermission } from '../adapters/express.js';
import type { Authorizer } from '../src/index.js';
import { asResource, projectsIn } from './projects.js';

/** A small workspace → project → app API guarded by fga-guard. */
export function createExpressApp(authz: Authorizer): express.Express {
  const app = express();
  app.use(express.json());

  app.get('/me', requireAuth(authz), (req, res) => {
    res.json({ user: req.auth?.userId, organization: req.auth?.organizationId, role: req.auth?.role });
  });

  // Org-wide permission: decided from the token alone.
  app.get('/billing', requirePermission(authz, 'billing:view'), (_req, res) => {
    res.json({ plan: 'enterprise', seats: 42 });
  });

  // Resource-scoped permissions: roles assigned on a workspace flow to its projects and apps.
  app.get(
    '/workspaces/:id',
    requirePermission(authz, 'workspace:view', { resource: (req) => ({ type: 'workspace', externalId: String(req.params.id) }) }),
    (req, res) => {
      res.json({ workspace: req.params.id });
    },
  );

  // A list: only the projects of the workspace the caller may view (one listing, then checks for the rest).
  app.get('/projects', requireAuth(authz), async (req, res) => {
    const workspace = String(req.query.workspace ?? 'ws-1');
    const visible = await authz.filterAccessible(req.auth!, 'project:view', projectsIn(workspace), asResource, {
      parent: { type: 'workspace', externalId: workspace },
    });
    res.json({ workspace, projects: visible.map((project) => project.id) });
  });

  // Any one of several permissions.
  app.get(
    '/projects/:id',
    requireAnyPermission(authz, ['project:view', 'project:edit'], { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }),
    (req, res) => {
      res.json({ project: req.params.id, via: req.authDecision?.permission });
    },
  );

  app.patch(
    '/projects/:id',
    requirePermission(authz, 'project:edit', { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }),
    (req, res) => {
      res.json({ project: req.params.id, updated: true, by: req.auth?.userId, decidedBy: req.authDecision?.source });
    },
  );

  app.post(
    '/apps/:id/deploy',
    requirePermission(authz, 'app:deploy', { resource: (req) => ({ type: 'app', externalId: String(req.params.id) }) }),
    (req, res) => {
      res.status(202).json({ app: req.params.id, deploying: true });
    },
  );

  // fga-guard's errors thrown in handlers (a 503 from filterAccessible, say) answer like the guards'.
  app.use(errorHandler());
  return app;
}
