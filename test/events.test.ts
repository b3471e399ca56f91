import express from 'express';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as expressAdapter from '../adapters/express.js';
import * as koaAdapter from '../adapters/koa.js';
import { createAuthorizer, type Authorizer } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

const SECRET = 'whsec_test';
let kit: TestKit;
let authz: Authorizer;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
});

const p1 = { type: 'project', externalId: 'p-1' };

/** A delivery as WorkOS makes one: `WorkOS-Signature: t=<ms>, v1=<HMAC>` over "<t>.<raw body>" (signed by the SDK). */
async function signed(event: Record<string, unknown>, { secret = SECRET, at = Date.now() } = {}) {
  const body = JSON.stringify({ id: `event_${Math.random().toString(36).slice(2)}`, created_at: new Date(at).toISOString(), ...event });
  const signature = await kit.workos().webhooks.computeSignature(at, body, secret);
  return { body, header: `t=${at}, v1=${signature}` };
}

const membershipUpdated = (id: string, status = 'inactive') => ({
  event: 'organization_membership.updated',
  data: { object: 'organization_membership', id, user_id: 'user_alice', organization_id: 'org_acme', status, role: { slug: 'member' }, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' },
});

function apps(secret = SECRET) {
  const app = express();
  app.post('/webhooks/workos', express.raw({ type: 'application/json' }), expressAdapter.workosWebhook(authz, { secret }));
  app.get('/p', expressAdapter.requirePermission(authz, 'project:edit', { resource: p1 }), (_req, res) => res.send('ok'));
  const koa = new Koa();
  const hook = koaAdapter.workosWebhook(authz, { secret });
  const guard = koaAdapter.requirePermission(authz, 'project:edit', { resource: p1 });
  koa.use((ctx, next) => (ctx.path === '/webhooks/workos' ? hook(ctx, next) : guard(ctx, next)));
  koa.use((ctx) => {
    ctx.body = 'ok';
  });
  return [
    ['Express', app],
    ['Koa', koa.callback()],
  ] as const;
}

describe('workosWebhook', () => {
  it('needs a secret', () => {
    expect(() => expressAdapter.workosWebhook(authz, {} as never)).toThrow(TypeError);
    expect(() => koaAdapter.workosWebhook(authz, { secret: '' })).toThrow(TypeError);
  });

  for (const index of [0, 1]) {
    it(`${index === 0 ? 'Express' : 'Koa'}: a verified event is applied, then 200; bad, missing and stale signatures → 400 and nothing changes`, async () => {
      const [, app] = apps()[index]!;
      const alice = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));
      const ask = async () => {
        kit.resetCalls();
        await authz.can(alice, 'project:edit', p1);
        return kit.calls('check');
      };
      await ask();
      const post = (delivery: { body: string; header?: string }) => {
        const call = request(app).post('/webhooks/workos').set('Content-Type', 'application/json');
        return (delivery.header === undefined ? call : call.set('WorkOS-Signature', delivery.header)).send(delivery.body);
      };

      const good = await signed(membershipUpdated('om_alice', 'active'));
      for (const bad of [
        { body: good.body },
        { body: good.body, header: 'nonsense' },
        { body: good.body.replace('om_alice', 'om_bob'), header: good.header },
        await signed(membershipUpdated('om_alice'), { secret: 'whsec_other' }),
        await signed(membershipUpdated('om_alice'), { at: Date.now() - 10 * 60_000 }),
      ]) {
        const response = await post(bad).expect(400);
        expect(response.body).toMatchObject({ error: 'invalid_webhook' });
        expect(JSON.stringify(response.body)).not.toMatch(/whsec|v1=/);
        expect(await ask()).toBe(0);
      }

      await post(good).expect(200, { received: true });
      expect(await ask()).toBe(1);
      // Duplicates and unknown events: 200, harmless.
      await post(good).expect(200);
      await post(await signed({ event: 'user.created', data: { id: 'user_x' } })).expect(200);
      await post(await signed({ event: 'organization_membership.updated', data: {} })).expect(200);
    });

    it(`${index === 0 ? 'Express' : 'Koa'}: session.revoked → the next request with that session's token answers 401`, async () => {
      const [, app] = apps()[index]!;
      const sid = `session_${index}_${Date.now()}`;
      const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: sid });
      const other = kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: `${sid}_other` });
      await request(app).get('/p').set('Authorization', `Bearer ${token}`).expect(200);
      const delivery = await signed({ event: 'session.revoked', data: { object: 'session', id: sid, user_id: 'user_alice', status: 'revoked' } });
      await request(app).post('/webhooks/workos').set('Content-Type', 'application/json').set('WorkOS-Signature', delivery.header).send(delivery.body).expect(200);
      const refused = await request(app).get('/p').set('Authorization', `Bearer ${token}`).expect(401);
      expect(refused.headers['www-authenticate']).toContain('invalid_token');
      // Verified afresh (a new token of the revoked session) it is refused too; other sessions are not.
      await expect(authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: sid }))).rejects.toMatchObject({ status: 401 });
      await request(app).get('/p').set('Authorization', `Bearer ${other}`).expect(200);
    });
  }

  it('Express: a body parsed by express.json() first is a configuration error, not a 400', async () => {
    const app = express();
    app.post('/hook', express.json(), expressAdapter.workosWebhook(authz, { secret: SECRET }));
    const errors: unknown[] = [];
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(error);
      res.status(500).end();
    });
    const delivery = await signed(membershipUpdated('om_alice'));
    await request(app).post('/hook').set('Content-Type', 'application/json').set('WorkOS-Signature', delivery.header).send(delivery.body).expect(500);
    expect(String(errors[0])).toMatch(/express\.raw/);
  });
});

describe('applyEvent: what each event makes stale', () => {
  const cases: Array<[string, Record<string, unknown>, (calls: { check: number; lookups: number }) => void]> = [
    ['organization_membership.deleted → that membership', { ...membershipUpdated('om_alice'), event: 'organization_membership.deleted' }, ({ check }) => expect(check).toBe(1)],
    ['group.member_removed → that membership', { event: 'group.member_removed', data: { groupId: 'group_1', organizationMembershipId: 'om_alice' } }, ({ check }) => expect(check).toBe(1)],
    ['organization_role.updated → the organization', { event: 'organization_role.updated', data: { organizationId: 'org_acme', slug: 'x' } }, ({ check, lookups }) => expect([check, lookups]).toEqual([1, 1])],
    ['role.updated (environment) → everything', { event: 'role.updated', data: { slug: 'member' } }, ({ check }) => expect(check).toBe(1)],
    ['permission.deleted → everything', { event: 'permission.deleted', data: { slug: 'project:edit' } }, ({ check }) => expect(check).toBe(1)],
    ['organization.deleted → the organization', { event: 'organization.deleted', data: { id: 'org_acme' } }, ({ check }) => expect(check).toBe(1)],
    ['organization_membership.created → the user', { event: 'organization_membership.created', data: { id: 'om_new', user_id: 'user_alice', organization_id: 'org_acme' } }, ({ lookups }) => expect(lookups).toBe(1)],
    ['another organization’s role → nothing here', { event: 'organization_role.updated', data: { organizationId: 'org_globex', slug: 'x' } }, ({ check, lookups }) => expect([check, lookups]).toEqual([0, 0])],
    ['an event it does not know → nothing', { event: 'dsync.user.created', data: { id: 'x' } }, ({ check }) => expect(check).toBe(0)],
  ];
  for (const [name, event, expectCalls] of cases) {
    it(name, async () => {
      const alice = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
      await authz.can(alice, 'project:edit', p1);
      kit.resetCalls();
      await authz.applyEvent(event as never);
      await authz.can(alice, 'project:edit', p1);
      expectCalls({ check: kit.calls('check'), lookups: kit.calls('listOrganizationMemberships') });
    });
  }

  it('refuses what is not an event', async () => {
    await expect(authz.applyEvent(null as never)).rejects.toThrow(TypeError);
    await expect(authz.applyEvent({ data: {} } as never)).rejects.toThrow(TypeError);
  });
});

describe('events from the test kit', () => {
  const until = async (condition: () => Promise<boolean>, ms = 3_000) => {
    const end = Date.now() + ms;
    while (!(await condition())) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('kit.revokeSession + deliverWebhooks: the next request with the session’s token answers 401', async () => {
    const [[, app]] = apps();
    const server = await new Promise<import('node:http').Server>((resolve) => {
      const listening = (app as express.Express).listen(0, '127.0.0.1', () => resolve(listening));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/webhooks/workos`;
      await kit.deliverWebhooks({ url, secret: SECRET }); // what earlier tests left pending
      const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: 'session_hooked' });
      await request(app).get('/p').set('Authorization', `Bearer ${token}`).expect(200);
      kit.revokeSession('session_hooked');
      expect(await kit.deliverWebhooks({ url, secret: SECRET })).toMatchObject({ delivered: 1, statuses: [200] });
      await request(app).get('/p').set('Authorization', `Bearer ${token}`).expect(401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('followEvents: a revoked session answers 401, and a deactivated membership is denied, once the poller has seen the event', async () => {
    const [[, app]] = apps();
    const follower = authz.followEvents({ intervalMs: 20 });
    try {
      const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: 'session_polled' });
      await request(app).get('/p').set('Authorization', `Bearer ${token}`).expect(200);
      kit.revokeSession('session_polled');
      await until(async () => (await request(app).get('/p').set('Authorization', `Bearer ${token}`)).status === 401);

      const other = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
      await request(app).get('/p').set('Authorization', `Bearer ${other}`).expect(200);
      kit.setMembershipStatus('om_alice', 'inactive');
      try {
        await until(async () => (await request(app).get('/p').set('Authorization', `Bearer ${other}`)).status === 403);
      } finally {
        kit.setMembershipStatus('om_alice', 'active');
      }
      await until(async () => (await request(app).get('/p').set('Authorization', `Bearer ${other}`)).status === 200);
    } finally {
      follower.stop();
    }
  });

  it('followEvents starts from now, backs off on errors without throwing, and stops', async () => {
    kit.revokeSession('session_before_following');
    await new Promise((resolve) => setTimeout(resolve, 5));
    const errors: unknown[] = [];
    kit.inject('listEvents', { status: 500 });
    const follower = authz.followEvents({ intervalMs: 10, onError: (error) => errors.push(error) });
    await until(async () => errors.length >= 2);
    const failing = kit.calls('listEvents');
    // Backing off: 20, 40, 80… ms apart, not every 10 ms.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(kit.calls('listEvents') - failing).toBeLessThanOrEqual(3);
    kit.clearFaults();
    // An event from before followEvents() is not applied: its session's tokens still work.
    await expect(authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: 'session_before_following' }))).resolves.toBeDefined();
    follower.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopped = kit.calls('listEvents');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(kit.calls('listEvents')).toBe(stopped);
  });

  it('followEvents checks its options', () => {
    expect(() => authz.followEvents({ intervalMs: 0 })).toThrow(TypeError);
    expect(() => authz.followEvents({ after: '' })).toThrow(TypeError);
    expect(() => authz.followEvents({ onError: 'log' as never })).toThrow(TypeError);
  });
});
