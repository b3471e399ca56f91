import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { errorHandler, requireAnyPermission, requireAuth, requirePermission } from '../adapters/fastify.js';
import type { Authorizer } from '../src/index.js';
import { asResource, projectsIn } from './projects.js';

const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

/** The same API as express-app.ts, on Fastify: each guard is a route's preHandler. */
export function createFastifyApp(authz: Authorizer): FastifyInstance {
  const app = Fastify();

  app.get('/me', { preHandler: requireAuth(authz) }, async (req) => ({
    user: req.auth?.userId,
    organization: req.auth?.organizationId,
    role: req.auth?.role,
  }));

  app.get('/billing', { preHandler: requirePermission(authz, 'billing:view') }, async () => ({ plan: 'enterprise', seats: 42 }));

  app.get(
    '/workspaces/:id',
    { preHandler: requirePermission(authz, 'workspace:view', { resource: (req) => ({ type: 'workspace', externalId: idOf(req) }) }) },
    async (req) => ({ workspace: idOf(req) }),
  );

  app.get('/projects', { preHandler: requireAuth(authz) }, async (req) => {
    const workspace = (req.query as { workspace?: string }).workspace ?? 'ws-1';
    const visible = await authz.filterAccessible(req.auth!, 'project:view', projectsIn(workspace), asResource, {
      parent: { type: 'workspace', externalId: workspace },
    });
    return { workspace, projects: visible.map((project) => project.id) };
  });

  app.get(
    '/projects/:id',
    { preHandler: requireAnyPermission(authz, ['project:view', 'project:edit'], { resource: (req) => ({ type: 'project', externalId: idOf(req) }) }) },
    async (req) => ({ project: idOf(req), via: req.authDecision?.permission }),
  );

  app.patch(
    '/projects/:id',
    { preHandler: requirePermission(authz, 'project:edit', { resource: (req) => ({ type: 'project', externalId: idOf(req) }) }) },
    async (req) => ({ project: idOf(req), updated: true, by: req.auth?.userId, decidedBy: req.authDecision?.source }),
  );

  app.post(
    '/apps/:id/deploy',
    { preHandler: requirePermission(authz, 'app:deploy', { resource: (req) => ({ type: 'app', externalId: idOf(req) }) }) },
    async (req, reply) => reply.code(202).send({ app: idOf(req), deploying: true }),
  );

  // fga-guard's errors thrown in handlers (a 503 from filterAccessible, say) answer like the guards'.
  app.setErrorHandler(errorHandler());
  return app;
}
