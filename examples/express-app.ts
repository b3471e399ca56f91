import express from 'express';
import { requireAuth, requirePermission } from '../adapters/express.js';
import type { Authorizer } from '../src/index.js';

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

  return app;
}
