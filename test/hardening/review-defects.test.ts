// The defects a security review found (issue 18), each reproduced against the code it was found in.
import Router from '@koa/router';
import express from 'express';
import express4 from 'express4';
import { decodeJwt } from 'jose';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as expressGuard from '../../adapters/express.js';
import * as koaGuard from '../../adapters/koa.js';
import { resolveConfig } from '../../src/config.js';
import { createAuthorizer, InvalidTokenError, ServiceUnavailableError, type Authorizer } from '../../src/index.js';
import { TokenVerifier } from '../../src/token.js';
import { createTestKit, type TestKit } from '../../testing/index.js';
import { closeServer } from '../support/apps.js';
import { bearer, sleep, trackCrashes } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

let kit: TestKit;
const crashes = trackCrashes();

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(async () => {
  crashes.stop();
  await kit.close();
});
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
  crashes.crashes.length = 0;
});
afterEach(() => {
  vi.restoreAllMocks();
});

const newAuthorizer = (options: Parameters<typeof createAuthorizer>[0] = {}) =>
  createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, ...options });
const expOf = (token: string) => decodeJwt(token).exp as number;

describe('1. an expired token is never remembered past its exp', () => {
  it('a token whose exp passes between verification and caching is refused and not remembered', async () => {
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    const expiresAt = expOf(token) * 1000;
    // The verification reads the clock just before exp; every later read is exactly at exp (a
    // TTL of 0 would have meant "never stale" to the cache).
    let reads = 0;
    const clock = () => (reads++ === 0 ? expiresAt - 100 : expiresAt);
    const verifier = new TokenVerifier(resolveConfig({ workos: kit.workos(), clientId: kit.clientId }), clock);
    await expect(verifier.verify(token)).rejects.toThrow(InvalidTokenError);
    expect(verifier.cachedTokens).toBe(0);
    await expect(verifier.verify(token)).rejects.toThrow('The access token expired');
  });

  it('a remembered token is checked against exp on every hit, on the wall clock', async () => {
    const authz = newAuthorizer();
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    await authz.verify(token);
    await authz.authenticate(`Bearer ${token}`);
    expect(authz.cacheStats().tokens).toBe(1);
    // The wall clock steps past exp (an NTP step, a resumed VM): the cache's own monotonic clock
    // still calls the entry fresh.
    vi.spyOn(Date, 'now').mockReturnValue(expOf(token) * 1000 + 2_600);
    await expect(authz.verify(token)).rejects.toThrow('The access token expired');
    await expect(authz.authenticate(`Bearer ${token}`)).rejects.toThrow('The access token expired');
    await expect(authz.authenticate(`bearer  ${token}`)).rejects.toThrow('The access token expired');
    expect(authz.cacheStats().tokens).toBe(0);
  });
});

describe("2. token permissions never grant on another organization's resource", () => {
  // Carol is a member of org_globex with project:edit org-wide; authz_resource_ws1 is org_acme's.
  const carol = () => kit.mintToken({ user: 'user_carol', organization: 'org_globex', permissions: ['project:edit'] });
  const bob = () => kit.mintToken({ user: 'user_bob', organization: 'org_acme', permissions: ['project:edit'] });

  it('a stored id of another organization is decided by WorkOS (denied), not by the token', async () => {
    const authz = newAuthorizer();
    const decision = await authz.check(await authz.verify(carol()), 'project:edit', { id: 'authz_resource_ws1' });
    expect(decision).toMatchObject({ allowed: false, source: 'api', reason: 'not_granted' });
    expect(kit.calls('getResource')).toBe(1);
    expect(kit.calls('check')).toBe(1);
  });

  it("a stored id of the token's organization is granted by the token; its organization is asked once", async () => {
    const authz = newAuthorizer();
    for (let i = 0; i < 3; i++) {
      const decision = await authz.check(await authz.verify(bob()), 'project:edit', { id: 'authz_resource_ws1' });
      expect(decision).toMatchObject({ allowed: true, source: 'token', resource: { id: 'authz_resource_ws1' } });
    }
    expect(kit.calls('getResource')).toBe(1);
    expect(kit.calls('check')).toBe(0);
    expect(authz.cacheStats().resourceOrganizations).toBe(1);
  });

  it('an unknown stored id falls through to WorkOS, and an outage of the lookup is a 503', async () => {
    const authz = newAuthorizer({ timeout: 300 });
    const principal = await authz.verify(bob());
    const unknown = await authz.check(principal, 'project:edit', { id: 'authz_resource_missing' });
    expect(unknown).toMatchObject({ allowed: false, reason: 'unknown_resource' });
    kit.inject('getResource', { status: 500 });
    await expect(authz.check(principal, 'project:edit', { id: 'authz_resource_other' })).rejects.toThrow(ServiceUnavailableError);
  });

  it('a resource named by external id is found in the caller organization: the token grants without a call', async () => {
    const authz = newAuthorizer();
    const decision = await authz.check(await authz.verify(bob()), 'project:edit', { type: 'project', externalId: 'p-1' });
    expect(decision).toMatchObject({ allowed: true, source: 'token' });
    expect(kit.calls('getResource') + kit.calls('check')).toBe(0);
  });
});

describe('3. a 429 is retried at most once', () => {
  const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });

  it.each([
    ['0', 2],
    ['1', 2],
  ])('Retry-After: %s makes %i calls in all, then 503', async (retryAfter, calls) => {
    kit.inject('check', { status: 429, headers: { 'Retry-After': retryAfter } });
    const authz = newAuthorizer({ timeout: 2_500 });
    const error = await authz.check(await authz.verify(alice()), 'project:edit', { type: 'project', externalId: 'p-1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).reason).toBe('rate_limited');
    expect(kit.calls('check')).toBe(calls);
  });
});

/** A timeout middleware answers 503 after 150 ms; the check takes 400 ms. */
const SLOW_CHECK = 400;
const routeTimeout = 150;

describe.each([
  ['express 5', express],
  ['express 4', express4 as unknown as typeof express],
])('4. %s: a decision that settles after something else answered', (_name, createApp) => {
  it.each([
    ['allowed', 'user_alice'],
    ['denied', 'user_bob'],
  ])('%s: no crash, no second answer, the handler does not run', async (_outcome, user) => {
    const authz = newAuthorizer({ timeout: 2_000 });
    const app = createApp();
    let handled = 0;
    app.use((_req, res, next) => {
      const timer = setTimeout(() => res.status(503).json({ timeout: true }), routeTimeout);
      res.on('finish', () => clearTimeout(timer));
      next();
    });
    app.get('/projects/:id', expressGuard.requirePermission(authz, 'project:edit', { resource: (req) => ({ type: 'project', externalId: String(req.params.id) }) }), (_req, res) => {
      handled += 1;
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    try {
      kit.inject('check', { delay: SLOW_CHECK });
      const res = await request(server).get('/projects/p-1').set(bearer(kit.mintToken({ user, organization: 'org_acme' })));
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ timeout: true });
      await sleep(SLOW_CHECK + 100);
      expect(crashes.crashes).toEqual([]);
      expect(handled).toBe(0);
    } finally {
      await closeServer(server);
    }
  });
});

describe('4. koa: a decision that settles after something else answered', () => {
  it.each([
    ['allowed', 'user_alice'],
    ['denied', 'user_bob'],
  ])('%s: no crash, the first answer stands, the handler does not run', async (_outcome, user) => {
    const authz = newAuthorizer({ timeout: 2_000 });
    const app = new Koa();
    const router = new Router();
    let handled = 0;
    app.use(async (ctx, next) => {
      await Promise.race([
        next(),
        sleep(routeTimeout).then(() => {
          ctx.status = 503;
          ctx.body = { timeout: true };
        }),
      ]);
    });
    router.get('/projects/:id', koaGuard.requirePermission(authz, 'project:edit', { resource: (ctx) => ({ type: 'project', externalId: String(ctx.params.id) }) }), (ctx) => {
      handled += 1;
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    const server = app.listen(0, '127.0.0.1');
    try {
      kit.inject('check', { delay: SLOW_CHECK });
      const res = await request(server).get('/projects/p-1').set(bearer(kit.mintToken({ user, organization: 'org_acme' })));
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ timeout: true });
      await sleep(SLOW_CHECK + 100);
      expect(crashes.crashes).toEqual([]);
      expect(handled).toBe(0);
    } finally {
      await closeServer(server);
    }
  });
});

describe('5. an observer that rejects', () => {
  it('an async onDecision that rejects changes nothing and crashes nothing', async () => {
    let observed = 0;
    const authz = newAuthorizer({
      onDecision: async () => {
        observed += 1;
        throw new Error('observer failed');
      },
    });
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    const decision = await authz.check(principal, 'workspace:view');
    expect(decision.allowed).toBe(true);
    await sleep(20);
    expect(observed).toBe(1);
    expect(crashes.crashes).toEqual([]);
  });
});

describe('also looked at', () => {
  it('a token with an aud (an agent credential, say) is not a user access token unless audience is set', async () => {
    const now = Math.floor(Date.now() / 1000);
    const agent = kit.signToken({ iss: kit.issuer, sub: 'agent_registration_1', aud: kit.clientId, org_id: 'org_acme', iat: now, exp: now + 300 });
    await expect(newAuthorizer().verify(agent)).rejects.toThrow('The access token is not a user access token');
    const withAudience = await newAuthorizer({ audience: kit.clientId }).verify(agent);
    expect(withAudience.userId).toBe('agent_registration_1');
    // AuthKit's own tokens carry no aud, and pass as before.
    expect((await newAuthorizer().verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }))).userId).toBe('user_alice');
  });

  it('agent and widget tokens signed by the same keys are not user access tokens', async () => {
    const authz = newAuthorizer();
    const token = (claims: Record<string, unknown>) => kit.mintToken({ user: 'user_alice', organization: 'org_acme', claims });
    await expect(authz.verify(token({ sub_profile: 'agent' }))).rejects.toThrow('The access token is not a user access token');
    await expect(authz.verify(token({ sub_type: 'widget' }))).rejects.toThrow('The access token is not a user access token');
    expect((await authz.verify(token({ sub_profile: 'user' }))).userId).toBe('user_alice');
  });

  it('a caller that joins a coalesced check late is not failed by the first caller running out of time', async () => {
    const authz: Authorizer = newAuthorizer({ timeout: 400 });
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));
    const resource = { type: 'project', externalId: 'p-1' };
    kit.inject('check', { delay: 1_000, times: 1 });
    const first = authz.check(principal, 'project:edit', resource).catch((e: unknown) => e);
    await sleep(250);
    // Joins the slow call with 400 ms of its own; the first caller's budget ends 250 ms in.
    const late = authz.check(principal, 'project:edit', resource);
    expect(await first).toMatchObject({ reason: 'timeout' });
    await expect(late).resolves.toMatchObject({ allowed: true, source: 'api' });
    expect(kit.calls('check')).toBe(2);
  });
});
