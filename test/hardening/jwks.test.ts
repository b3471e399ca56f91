import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, type AuthorizerOptions } from '../../src/index.js';
import { createTestKit, type Fault, type TestKit } from '../../testing/index.js';
import { closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import { attackerKeys, forge, rsaSigner, startTripwire, type AttackerKeys, type Tripwire } from '../support/forge.js';
import { bearer, expectGuardAnswer, expectInvalidToken, primaryFrameworks, trackCrashes } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

let kit: TestKit;
let attacker: AttackerKeys;
let tripwire: Tripwire;
const crashes = trackCrashes();

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  attacker = attackerKeys();
  tripwire = await startTripwire({ keys: [] });
});
afterAll(async () => {
  crashes.stop();
  expect(crashes.crashes).toEqual([]);
  expect(tripwire.requests).toBe(0);
  await new Promise((resolve) => tripwire.server.close(resolve));
  await kit.close();
});

const TIMEOUT = 300;
const routes: RouteSpec[] = [{ path: '/me' }];
const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme' });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(primaryFrameworks)('$name: JWKS faults', ({ build }) => {
  const opened: AppUnderTest[] = [];
  /** A new authorizer (cold JWKS cache, full refetch allowance) behind a new app. */
  const fresh = (options: AuthorizerOptions = {}) => {
    const app = build(createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: TIMEOUT, ...options }), routes);
    opened.push(app);
    return app;
  };
  const get = (app: AppUnderTest, token = alice()) => request(app.server).get('/me').set(bearer(token));

  afterEach(async () => {
    kit.clearFaults();
    kit.resetCalls();
    for (const app of opened.splice(0)) {
      expect(app.handledErrors).toEqual([]);
      await closeServer(app.server);
    }
  });

  const downFaults: [string, Fault][] = [
    ['500', { status: 500 }],
    ['502 with an HTML page', { status: 502, body: '<html>Bad gateway</html>' }],
    ['404', { status: 404 }],
    ['connection reset', { drop: true }],
  ];

  it.each(downFaults)('down at the first request (%s) → 503, then recovers when it is back', async (_name, fault) => {
    const app = fresh();
    kit.inject('jwks', fault);
    for (let i = 0; i < 3; i++) expectGuardAnswer(await get(app), 503, 'unavailable');
    kit.clearFaults();
    const back = await get(app);
    expect(back.status).toBe(200);
    expect(back.body.auth.userId).toBe('user_alice');
  });

  it('connection refused → 503', async () => {
    const app = fresh({ jwksUrl: `http://127.0.0.1:${await closedPort()}/sso/jwks/${kit.clientId}` });
    expectGuardAnswer(await get(app), 503, 'unavailable');
  });

  it('a redirect is not followed → 503', async () => {
    const app = fresh();
    kit.inject('jwks', { status: 302, headers: { Location: `${tripwire.url}/jwks` }, body: '' });
    expectGuardAnswer(await get(app), 503, 'unavailable');
    expect(tripwire.requests).toBe(0);
  });

  it('slower than the budget → 503 inside the budget', async () => {
    const app = fresh();
    kit.inject('jwks', { delay: 3_000 });
    const started = Date.now();
    expectGuardAnswer(await get(app), 503, 'unavailable');
    expect(Date.now() - started).toBeLessThan(TIMEOUT + 400);
  });

  const garbage: [string, Fault][] = [
    ['an HTML page', { status: 200, body: '<!doctype html><title>Login</title>' }],
    ['invalid JSON', { status: 200, body: '{"keys": [', headers: { 'content-type': 'application/json' } }],
    ['{ "keys": [] }', { status: 200, body: { keys: [] } }],
    ['{ "keys": "x" }', { status: 200, body: { keys: 'x' } }],
    ['a JSON array', { status: 200, body: [] }],
    ['null', { status: 200, body: 'null', headers: { 'content-type': 'application/json' } }],
  ];

  it.each(garbage)('answering %s → 503, then recovers', async (_name, fault) => {
    const app = fresh();
    const remove = kit.inject('jwks', fault);
    expectGuardAnswer(await get(app), 503, 'unavailable');
    remove();
    expect((await get(app)).status).toBe(200);
  });

  it('an empty key set for a while → 503 throughout, and the first request after it is fixed gets through', async () => {
    const app = fresh();
    const remove = kit.inject('jwks', { status: 200, body: { keys: [] } });
    for (let i = 0; i < 8; i++) expectGuardAnswer(await get(app), 503, 'unavailable');
    remove();
    expect((await get(app)).status).toBe(200);
  });

  it('rotation: a new kid is accepted without a restart, the old one still while it is published', async () => {
    const app = fresh();
    const before = alice();
    expect((await get(app, before)).status).toBe(200);
    kit.rotateKeys();
    expect((await get(app, alice())).status).toBe(200);
    expect((await get(app, before)).status).toBe(200);
    expect(kit.calls('jwks')).toBe(2);
  });

  const randomKid = () =>
    forge({ alg: 'RS256', typ: 'JWT', kid: randomUUID() }, { sub: 'user_alice', iss: kit.issuer, exp: 9e9 }, rsaSigner(attacker.rsa.privateKey));

  it('a flood of random kids → 401 each, bounded refetches (burst 3, then cool-down)', async () => {
    const app = fresh();
    expect((await get(app)).status).toBe(200);
    for (let i = 0; i < 30; i++) {
      const token = randomKid();
      expectInvalidToken(await get(app, token), token);
    }
    const flood = await Promise.all(Array.from({ length: 30 }, () => get(app, randomKid())));
    expect(flood.every((res) => res.status === 401)).toBe(true);
    expect(kit.calls('jwks')).toBeLessThanOrEqual(1 + 3);
    // Known keys keep working throughout.
    expect((await get(app)).status).toBe(200);
  });

  it('concurrent first requests → one JWKS fetch, every request answered', async () => {
    const app = fresh({ timeout: 2_500 });
    kit.inject('jwks', { delay: 150, times: 1 });
    const answers = await Promise.all(Array.from({ length: 40 }, () => get(app)));
    expect(answers.map((res) => res.status)).toEqual(Array(40).fill(200));
    expect(kit.calls('jwks')).toBe(1);
  });

  it('concurrent first requests while it is down → all 503, no pile-up of fetches', async () => {
    const app = fresh();
    kit.inject('jwks', { status: 500, delay: 100 });
    const answers = await Promise.all(Array.from({ length: 40 }, () => get(app)));
    expect(answers.map((res) => res.status)).toEqual(Array(40).fill(503));
    expect(kit.calls('jwks')).toBeLessThanOrEqual(3);
  });
});
