// Issue #24: auditRoutes lists every route with the fga-guard guards in front of it.
import { describe, expect, it, vi } from 'vitest';
import express5 from 'express';
import express4 from 'express4';
import Koa from 'koa';
import Router from '@koa/router';
import { createAuthorizer } from '../src/index.js';
import * as expressGuard from '../adapters/express.js';
import * as koaGuard from '../adapters/koa.js';

const authz = createAuthorizer({ apiKey: 'sk_test_audit', clientId: 'client_audit', logger: false });
const handler = (_req: unknown, res: { end(): void }) => res.end();
const summary = (audit: expressGuard.RouteAudit) =>
  audit.routes.map((route) => `${route.method} ${route.path} [${route.guards.map((guard) => `${guard.kind}(${guard.permissions.join(',')})`).join(' ')}]`);

describe.each([
  ['express 5', express5],
  ['express 4', express4 as unknown as typeof express5],
])('%s: auditRoutes', (_name, express) => {
  function app() {
    const app = express();
    app.get('/health', handler);
    app.get('/projects/:id', expressGuard.requirePermission(authz, 'project:view', { resource: { type: 'project', externalId: 'p' } }), handler);
    app.route('/multi').get(expressGuard.requireAuth(authz), handler).post(handler);
    const admin = express.Router();
    admin.use(expressGuard.requireAnyPermission(authz, ['admin:read', 'admin:write']));
    admin.get('/users/:userId', handler);
    app.use('/admin', admin);
    app.use('/api', expressGuard.requireAuth(authz));
    app.get('/api/me', handler);
    app.delete('/unguarded/:id', handler);
    return app;
  }

  it('lists every route with its guards, app- and router-level ones included', () => {
    const audit = expressGuard.auditRoutes(app());
    expect(summary(audit)).toEqual([
      'GET /health []',
      'GET /projects/:id [requirePermission(project:view)]',
      'GET /multi [requireAuth()]',
      'POST /multi []',
      'GET /admin/users/:userId [requireAnyPermission(admin:read,admin:write)]',
      'GET /api/me [requireAuth()]',
      'DELETE /unguarded/:id []',
    ]);
    expect(audit.routes[1]?.guards[0]).toMatchObject({ resourceType: 'project' });
    expect(audit.unguarded.map((route) => `${route.method} ${route.path}`)).toEqual(['GET /health', 'POST /multi', 'DELETE /unguarded/:id']);
    expect(audit.ok).toBe(false);
  });

  it('allow lists public routes; mode warns or throws for the rest', () => {
    const allow = ['/health', 'POST /multi', /^\/unguarded\//];
    expect(expressGuard.auditRoutes(app(), { allow, mode: 'throw' })).toMatchObject({ ok: true, unguarded: [] });
    expect(() => expressGuard.auditRoutes(app(), { allow: ['/health'], mode: 'throw' })).toThrow(/2 routes have no fga-guard guard: POST \/multi, DELETE \/unguarded\/:id/);
    const logger = vi.fn();
    expressGuard.auditRoutes(app(), { allow: ['/health', '/unguarded/*'], mode: 'warn', logger });
    expect(logger).toHaveBeenCalledWith(expect.stringMatching(/1 route has no fga-guard guard: POST \/multi/));
  });
});

describe('koa: auditRoutes', () => {
  function router() {
    const router = new Router({ prefix: '/v1' });
    router.get('/health', (ctx) => void (ctx.body = 'ok'));
    router.get('/projects/:id', koaGuard.requirePermission(authz, 'project:view', { resource: (ctx) => ({ type: 'project', externalId: String(ctx.params.id) }) }), (ctx) => void (ctx.body = {}));
    router.use('/admin', koaGuard.requireAllPermissions(authz, ['admin:read', 'admin:write']));
    router.post('/admin/users', (ctx) => void (ctx.body = {}));
    return router;
  }

  it('lists a router’s routes with their guards (router.use included)', () => {
    const audit = koaGuard.auditRoutes(router());
    expect(summary(audit)).toEqual([
      'GET /v1/health []',
      'GET /v1/projects/:id [requirePermission(project:view)]',
      'POST /v1/admin/users [requireAllPermissions(admin:read,admin:write)]',
    ]);
    expect(audit.routes[1]?.guards[0]).toMatchObject({ resolver: true });
    expect(koaGuard.auditRoutes(router(), { allow: ['GET /v1/health'] }).ok).toBe(true);
  });

  it('on a Koa app: the app’s own guards before the router count for every route', () => {
    const app = new Koa();
    app.use(koaGuard.requireAuth(authz));
    app.use(router().routes());
    const audit = koaGuard.auditRoutes(app, { mode: 'throw' });
    expect(summary(audit)[0]).toBe('GET /v1/health [requireAuth()]');
    expect(() => koaGuard.auditRoutes({} as never)).toThrow(/Router or a Koa app/);
  });
});
