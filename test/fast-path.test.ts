/**
 * What makes the guard nearly free (issue 5), pinned by behaviour: a request whose answer needs no
 * I/O goes on in the same turn. On Express `req.auth` / `req.authDecision` are plain own properties
 * of the request, and Express's shared request prototype is left alone (issue 19).
 */
import Router from '@koa/router';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import express4 from 'express4';
import Koa, { type Middleware } from 'koa';
import Koa2 from 'koa2';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as expressGuard from '../adapters/express.js';
import * as koaGuard from '../adapters/koa.js';
import { createAuthorizer, type Authorizer, type AuthorizedRequest, type Principal } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { closeServer } from './support/apps.js';
import { bearer } from './support/hardening.js';
import { testSeed } from './support/model.js';

let kit: TestKit;
let authz: Authorizer;

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
});
afterAll(() => kit.close());

/** Its own caches, so that each test sees the first request of a token and of a decision. */
const freshAuthorizer = () => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });
const project = (id: string) => ({ type: 'project', externalId: id });

/** Runs `guard` and records whether it called `next` before returning. */
function expressSameTurn(guard: RequestHandler): RequestHandler {
  return (req, res, next) => {
    let returned = false;
    guard(req, res, (error?: unknown) => {
      res.locals.sameTurn = !returned;
      next(error);
    });
    returned = true;
  };
}

function koaSameTurn(guard: Middleware): Middleware {
  return (ctx, next) => {
    let returned = false;
    const result = guard(ctx, () => {
      ctx.state.sameTurn = !returned;
      return next();
    });
    returned = true;
    return result;
  };
}

/** The app's /me, /billing and /projects/:id answer `{ sameTurn, user, source }`. */
async function expectSameTurnWhenNoIo(server: Server): Promise<void> {
  try {
    const token = alice();
    const get = async (path: string) => (await request(server).get(path).set(bearer(token))).body;
    expect(await get('/me')).toEqual({ sameTurn: false, user: 'user_alice' }); // first sight: verified
    expect(await get('/me')).toEqual({ sameTurn: true, user: 'user_alice' });
    expect(await get('/billing')).toEqual({ sameTurn: true, user: 'user_alice', source: 'token' });
    expect(await get('/projects/p-1')).toEqual({ sameTurn: false, user: 'user_alice', source: 'api' });
    expect(await get('/projects/p-1')).toEqual({ sameTurn: true, user: 'user_alice', source: 'cache' });
  } finally {
    await closeServer(server);
  }
}

const expressVersions = [
  { name: 'express 5', create: express },
  { name: 'express 4', create: express4 },
] as const;
const koaVersions = [
  { name: 'koa 3', App: Koa },
  { name: 'koa 2', App: Koa2 },
] as const;

describe('the same turn when no I/O is needed', () => {
  describe.each(expressVersions)('$name', ({ create }) => {
    it('token grant, remembered token, warm decision: next() before the guard returns; otherwise later', async () => {
      const authz = freshAuthorizer();
      const app = create();
      const reply = (req: Request, res: Response) => {
        res.json({ sameTurn: res.locals.sameTurn, user: req.auth?.userId, source: req.authDecision?.source });
      };
      app.get('/me', expressSameTurn(expressGuard.requireAuth(authz)), reply);
      app.get('/billing', expressSameTurn(expressGuard.requirePermission(authz, 'workspace:view')), reply);
      app.get(
        '/projects/:id',
        expressSameTurn(expressGuard.requirePermission(authz, 'project:edit', { resource: (req) => project(String(req.params.id)) })),
        reply,
      );
      await expectSameTurnWhenNoIo(app.listen(0, '127.0.0.1'));
    });
  });

  describe.each(koaVersions)('$name', ({ App }) => {
    it('token grant, remembered token, warm decision: next() before the guard returns; otherwise later', async () => {
      const authz = freshAuthorizer();
      const app = new App();
      const router = new Router();
      const reply: Middleware = (ctx) => {
        ctx.body = { sameTurn: ctx.state.sameTurn, user: ctx.state.auth?.userId, source: ctx.state.authDecision?.source };
      };
      router.get('/me', koaSameTurn(koaGuard.requireAuth(authz)), reply);
      router.get('/billing', koaSameTurn(koaGuard.requirePermission(authz, 'workspace:view')), reply);
      router.get(
        '/projects/:id',
        koaSameTurn(koaGuard.requirePermission(authz, 'project:edit', { resource: (ctx) => project(String(ctx.params.id)) })),
        reply,
      );
      app.use(router.routes());
      await expectSameTurnWhenNoIo(app.listen(0, '127.0.0.1'));
    });
  });

  it('an Authorizer made elsewhere (a wrapper) goes through its public methods and still works', async () => {
    const calls: string[] = [];
    const wrapper: Authorizer = {
      ...authz,
      authenticate: (header) => {
        calls.push('authenticate');
        return authz.authenticate(header);
      },
      authorizeRequest: (header, permission, resource, context) => {
        calls.push('authorizeRequest');
        return authz.authorizeRequest(header, permission, resource, context);
      },
    };
    const app = express();
    app.get('/me', expressGuard.requireAuth(wrapper), (req, res) => {
      res.json({ user: req.auth?.userId });
    });
    app.get('/billing', expressGuard.requirePermission(wrapper, 'workspace:view'), (req, res) => {
      res.json({ source: req.authDecision?.source });
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      expect((await request(server).get('/me').set(bearer(alice()))).body).toEqual({ user: 'user_alice' });
      expect((await request(server).get('/billing').set(bearer(alice()))).body).toEqual({ source: 'token' });
      expect((await request(server).get('/billing')).status).toBe(401);
      expect(calls).toEqual(['authenticate', 'authorizeRequest', 'authorizeRequest']);
    } finally {
      await closeServer(server);
    }
  });
});

describe.each(expressVersions)('$name: req.auth and req.authDecision', ({ create }) => {
  it('are set by the guard, never shared between requests, and absent on unguarded routes', async () => {
    const app = create();
    app.get('/guarded', expressGuard.requirePermission(authz, 'workspace:view'), (req, res) => {
      res.json({ user: req.auth?.userId, source: req.authDecision?.source, own: Object.hasOwn(req, 'auth') });
    });
    app.get('/open', (req, res) => {
      res.json({ user: req.auth?.userId ?? null, decision: req.authDecision ?? null });
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      const bob = kit.mintToken({ user: 'user_bob', organization: 'org_acme', permissions: ['workspace:view'] });
      const [a, b] = await Promise.all([
        request(server).get('/guarded').set(bearer(alice())),
        request(server).get('/guarded').set(bearer(bob)),
      ]);
      expect(a.body).toEqual({ user: 'user_alice', source: 'token', own: true });
      expect(b.body).toEqual({ user: 'user_bob', source: 'token', own: true });
      expect((await request(server).get('/open').set(bearer(alice()))).body).toEqual({ user: null, decision: null });
    } finally {
      await closeServer(server);
    }
  });

  it('leave Express\'s shared request prototype alone; a later middleware\'s req.auth is an own property', async () => {
    const app = create();
    const fromAnotherMiddleware: Principal = { kind: 'user', userId: 'user_from_elsewhere', permissions: [], claims: {} };
    /** Every prototype of `req` up to Node's IncomingMessage.prototype that holds `auth` or `authDecision`. */
    const prototypesHolding = (req: object): number => {
      let holding = 0;
      for (let prototype = Object.getPrototypeOf(req) as object | null; prototype !== null; prototype = Object.getPrototypeOf(prototype) as object | null) {
        if (Object.hasOwn(prototype, 'auth') || Object.hasOwn(prototype, 'authDecision')) holding++;
      }
      return holding;
    };
    const descriptor = (req: object, name: string) => {
      const own = Object.getOwnPropertyDescriptor(req, name);
      return own && { data: 'value' in own, writable: own.writable, enumerable: own.enumerable };
    };
    app.get(
      '/guarded',
      expressGuard.requirePermission(authz, 'workspace:view'),
      (req, res, next) => {
        res.locals.guarded = { user: req.auth?.userId, auth: descriptor(req, 'auth'), authDecision: descriptor(req, 'authDecision') };
        next();
      },
      (req, _res, next) => {
        req.auth = fromAnotherMiddleware;
        next();
      },
      (req, res) => {
        res.json({
          guarded: res.locals.guarded,
          later: { user: req.auth?.userId, auth: descriptor(req, 'auth') },
          prototypesHolding: prototypesHolding(req),
        });
      },
    );
    const server = app.listen(0, '127.0.0.1');
    try {
      const res = await request(server).get('/guarded').set(bearer(alice()));
      const plain = { data: true, writable: true, enumerable: true };
      expect(res.body).toEqual({
        guarded: { user: 'user_alice', auth: plain, authDecision: plain },
        later: { user: 'user_from_elsewhere', auth: plain },
        prototypesHolding: 0,
      });
      for (const shared of [create.request, app.request, Object.getPrototypeOf(create.request) as object]) {
        expect(Object.hasOwn(shared, 'auth')).toBe(false);
        expect(Object.hasOwn(shared, 'authDecision')).toBe(false);
      }
      expect(Object.getOwnPropertySymbols(create.request)).toEqual([]);
    } finally {
      await closeServer(server);
    }
  });

  it('can be assigned and read by the app, like plain properties', async () => {
    const app = create();
    const stand: Principal = { kind: 'user', userId: 'user_stand_in', permissions: [], claims: {} };
    app.get('/assigned', (req, res) => {
      req.auth = stand;
      res.json({ user: req.auth?.userId });
    });
    app.get('/overwritten', expressGuard.requireAuth(authz), (req, res) => {
      const verified = req.auth?.userId;
      req.auth = undefined;
      res.json({ verified, after: req.auth ?? null });
    });
    app.get('/both', expressGuard.requirePermission(authz, 'workspace:view'), expressGuard.requireAuth(authz), (req, res) => {
      const before = req.authDecision?.source;
      req.authDecision = undefined;
      res.json({ user: req.auth?.userId, before, after: req.authDecision ?? null });
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      expect((await request(server).get('/both').set(bearer(alice()))).body).toEqual({ user: 'user_alice', before: 'token', after: null });
      expect((await request(server).get('/assigned')).body).toEqual({ user: 'user_stand_in' });
      expect((await request(server).get('/overwritten').set(bearer(alice()))).body).toEqual({ verified: 'user_alice', after: null });
    } finally {
      await closeServer(server);
    }
  });

  it('stay visible after a mounted sub-app hands the request back to its parent', async () => {
    const parent = create();
    const sub = create();
    sub.get('/projects/:id', expressGuard.requirePermission(authz, 'project:edit', { resource: (req) => project(String(req.params.id)) }), (_req, _res, next) => next());
    parent.use('/api', sub);
    parent.get('/api/projects/:id', (req, res) => {
      res.json({ user: req.auth?.userId, source: req.authDecision?.source });
    });
    const server = parent.listen(0, '127.0.0.1');
    try {
      const res = await request(server).get('/api/projects/p-1').set(bearer(alice()));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ user: 'user_alice', source: expect.stringMatching(/^(api|cache)$/) });
    } finally {
      await closeServer(server);
    }
  });
});

describe('express guards on a plain Node request (no Express prototype)', () => {
  it('set req.auth and req.authDecision as own properties', async () => {
    const guard = expressGuard.requirePermission(authz, 'workspace:view');
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const expressReq = req as unknown as Request;
      guard(expressReq, res as unknown as Response, (() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ user: expressReq.auth?.userId, source: expressReq.authDecision?.source, own: Object.hasOwn(req, 'auth') }));
      }) as NextFunction);
    });
    server.listen(0, '127.0.0.1');
    try {
      const res = await request(server).get('/').set(bearer(alice()));
      expect(res.body).toEqual({ user: 'user_alice', source: 'token', own: true });
    } finally {
      await closeServer(server);
    }
  });
});

describe('AuthorizedRequest', () => {
  it('is what authorizeRequest resolves with', async () => {
    const outcome: AuthorizedRequest = await authz.authorizeRequest(`Bearer ${alice()}`, 'workspace:view');
    expect(outcome.principal.userId).toBe('user_alice');
    expect(outcome.decision).toMatchObject({ allowed: true, source: 'token', permission: 'workspace:view' });
  });
});
