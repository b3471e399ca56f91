import { createServer } from 'node:net';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WorkOS } from '@workos-inc/node';
import { createAuthorizer, type Authorizer } from '../../src/index.js';
import { createTestKit, type EndpointName, type Fault, type TestKit } from '../../testing/index.js';
import { closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import { bearer, expectGuardAnswer, expectNoLeak, primaryFrameworks, sleep, trackCrashes } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

const TIMEOUT = 250;
/** supertest, the framework and the loopback round trip on a busy 2-core machine. */
const SLACK = 350;
const SECRET = { code: 'internal', message: 'UPSTREAM-SECRET stack: at Db.query (db.js:12)' };

let kit: TestKit;
const crashes = trackCrashes();

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(async () => {
  // Late answers of abandoned calls land after their requests were answered: give them time to.
  await sleep(100);
  crashes.stop();
  expect(crashes.crashes).toEqual([]);
  await kit.close();
});

const routes: RouteSpec[] = [{ path: '/projects/:id', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }) }];
/** With the membership in the token only the check is called; without it, the lookup comes first. */
const aliceWithMembership = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });
const aliceLookedUp = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme' });

interface FaultCase {
  name: string;
  fault: Fault;
  /** 503 unless said otherwise. */
  status?: 403 | 503;
  retryAfter?: string;
  /** Calls of the faulted endpoint for one request. */
  calls?: number;
}

const html = '<html><body><h1>502 Bad Gateway</h1>UPSTREAM-SECRET</body></html>';

/** Faults of either endpoint: each must answer 503 with Retry-After inside the budget. */
const transportFaults: FaultCase[] = [
  { name: '500', fault: { status: 500, body: SECRET }, retryAfter: '2', calls: 2 },
  { name: '502', fault: { status: 502, body: SECRET }, retryAfter: '2', calls: 2 },
  { name: '503', fault: { status: 503, body: SECRET }, retryAfter: '2', calls: 2 },
  { name: '504 with an HTML page', fault: { status: 504, body: html }, retryAfter: '2', calls: 2 },
  { name: '429 without Retry-After', fault: { status: 429, body: SECRET }, retryAfter: '2', calls: 1 },
  { name: '429, Retry-After beyond the budget', fault: { status: 429, body: SECRET, headers: { 'Retry-After': '7' } }, retryAfter: '7', calls: 1 },
  { name: '429, Retry-After of two minutes', fault: { status: 429, headers: { 'Retry-After': '120' } }, retryAfter: '60', calls: 1 },
  { name: '429, Retry-After as an HTTP date', fault: { status: 429, headers: { 'Retry-After': 'Wed, 21 Oct 2099 07:28:00 GMT' } }, retryAfter: '2', calls: 1 },
  { name: '429 with an HTML page and Retry-After', fault: { status: 429, body: html, headers: { 'Retry-After': '7' } }, retryAfter: '7', calls: 1 },
  { name: 'connection reset', fault: { drop: true }, retryAfter: '2', calls: 2 },
  { name: 'slower than the timeout', fault: { delay: 3_000 }, retryAfter: '2', calls: 1 },
  { name: 'reset after a delay', fault: { delay: 100, drop: true }, retryAfter: '2' },
  { name: '401 (the API key is wrong)', fault: { status: 401, body: SECRET }, retryAfter: '2', calls: 1 },
  { name: '403', fault: { status: 403, body: SECRET }, retryAfter: '2', calls: 1 },
  { name: 'an HTML page with 200', fault: { status: 200, body: html } },
  { name: 'invalid JSON', fault: { status: 200, body: '{"authorized": tru', headers: { 'content-type': 'application/json' } } },
  { name: 'JSON null', fault: { status: 200, body: 'null', headers: { 'content-type': 'application/json' } } },
  { name: 'a JSON array', fault: { status: 200, body: [] } },
];

const LOOKUP_FAULTS = [
  '500',
  '504 with an HTML page',
  '429 without Retry-After',
  '429, Retry-After beyond the budget',
  '429 with an HTML page and Retry-After',
  'connection reset',
  'slower than the timeout',
  '401 (the API key is wrong)',
  'invalid JSON',
];

const checkAnswers: FaultCase[] = [
  { name: '{}', fault: { status: 200, body: {} }, calls: 1 },
  { name: '{"authorized":"true"}', fault: { status: 200, body: { authorized: 'true' } }, calls: 1 },
  { name: '{"authorized":1}', fault: { status: 200, body: { authorized: 1 } }, calls: 1 },
  { name: '{"authorized":null}', fault: { status: 200, body: { authorized: null } }, calls: 1 },
  { name: '"true"', fault: { status: 200, body: '"true"', headers: { 'content-type': 'application/json' } }, calls: 1 },
  { name: '400 → deny', fault: { status: 400, body: SECRET }, status: 403, calls: 1 },
  { name: '404 → deny', fault: { status: 404, body: { code: 'entity_not_found', message: 'UPSTREAM-SECRET' } }, status: 403, calls: 1 },
  { name: '422 → deny', fault: { status: 422, body: SECRET }, status: 403, calls: 1 },
];

const membershipAnswers: FaultCase[] = [
  // The SDK fails to read these with a TypeError, which cannot be told from a network error: retried once.
  { name: '{}', fault: { status: 200, body: {} } },
  { name: '{"data":"x"}', fault: { status: 200, body: { object: 'list', data: 'x' } } },
  { name: 'a membership without id', fault: { status: 200, body: { object: 'list', data: [{ object: 'organization_membership', id: 5 }] } }, calls: 1 },
  {
    name: "someone else's membership → deny",
    fault: {
      status: 200,
      body: {
        object: 'list',
        data: [{ object: 'organization_membership', id: 'om_bob', user_id: 'user_bob', organization_id: 'org_acme', status: 'active', role: { slug: 'member' } }],
        list_metadata: {},
      },
    },
    status: 403,
    calls: 1,
  },
  { name: '404 → deny', fault: { status: 404, body: SECRET }, status: 403, calls: 1 },
];

describe.each(primaryFrameworks)('$name: Authorization API faults', ({ build }) => {
  let authz: Authorizer;
  let app: AppUnderTest;

  beforeAll(async () => {
    authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: TIMEOUT });
    app = build(authz, routes);
    // Warm the JWKS so that only the faulted endpoint is timed.
    await request(app.server).get('/projects/p-1').set(bearer(aliceWithMembership()));
  });
  afterAll(() => closeServer(app.server));
  beforeEach(() => {
    kit.clearFaults();
    kit.resetCalls();
    authz.clearCache();
  });
  afterEach(() => {
    expect(app.handledErrors).toEqual([]);
    kit.clearFaults();
  });

  async function expectFault(endpoint: EndpointName, token: string, { fault, status = 503, retryAfter, calls }: FaultCase) {
    const remove = kit.inject(endpoint, fault);
    const started = Date.now();
    const res = await request(app.server).get('/projects/p-1').set(bearer(token));
    const elapsed = Date.now() - started;
    if (status === 503) {
      expectGuardAnswer(res, 503, 'unavailable', [token]);
      if (retryAfter) expect(res.headers['retry-after']).toBe(retryAfter);
    } else {
      expectGuardAnswer(res, 403, 'forbidden', [token]);
    }
    expect(elapsed).toBeLessThan(TIMEOUT + SLACK);
    if (calls !== undefined) expect(kit.calls(endpoint)).toBe(calls);

    // Errors are never remembered: the first request after the fault clears gets the real answer.
    remove();
    kit.resetCalls();
    const recovered = await request(app.server).get('/projects/p-1').set(bearer(token));
    if (status === 503) {
      expect(recovered.status).toBe(200);
      expect(kit.calls(endpoint)).toBe(1);
    }
  }

  describe('the check', () => {
    it.each([...transportFaults, ...checkAnswers])('$name', (faultCase) => expectFault('check', aliceWithMembership(), faultCase));
  });

  describe('the membership lookup', () => {
    // The same budget code as the check: a representative subset of the transport faults.
    const lookupFaults = transportFaults.filter((f) => LOOKUP_FAULTS.includes(f.name));
    it.each([...lookupFaults, ...membershipAnswers])('$name', async (faultCase) => {
      await expectFault('listOrganizationMemberships', aliceLookedUp(), faultCase);
      expect(kit.calls('check')).toBeLessThanOrEqual(1);
    });
  });

  it('a transient failure is retried once, briefly, inside the budget', async () => {
    kit.inject('check', { status: 502, body: SECRET, times: 1 });
    const res = await request(app.server).get('/projects/p-1').set(bearer(aliceWithMembership()));
    expect(res.status).toBe(200);
    expect(kit.calls('check')).toBe(2);
  });

  it('a 429 whose Retry-After fits the budget is retried', async () => {
    kit.inject('check', { status: 429, headers: { 'Retry-After': '0' }, times: 1 });
    const res = await request(app.server).get('/projects/p-1').set(bearer(aliceWithMembership()));
    expect(res.status).toBe(200);
    expect(kit.calls('check')).toBe(2);
  });

  it('both calls share one budget: a slow lookup leaves less for the check', async () => {
    kit.inject('listOrganizationMemberships', { delay: 200, times: 1 });
    kit.inject('check', { delay: 200, times: 1 });
    const started = Date.now();
    const res = await request(app.server).get('/projects/p-1').set(bearer(aliceLookedUp()));
    expectGuardAnswer(res, 503, 'unavailable');
    expect(Date.now() - started).toBeLessThan(TIMEOUT + SLACK);
  });

  it('a fault on every endpoint at once still answers 503, never 200 or 500', async () => {
    kit.inject('listOrganizationMemberships', { status: 500 });
    kit.inject('check', { status: 500 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(app.server).get('/projects/p-1').set(bearer(i % 2 ? aliceLookedUp() : aliceWithMembership()))),
    );
    for (const res of answers) expectNoLeak(res);
    expect(answers.map((res) => res.status)).toEqual(Array(20).fill(503));
  });
});

describe.each(primaryFrameworks)('$name: WorkOS unreachable', ({ build }) => {
  it('connection refused → 503 inside the budget, for the lookup and the check', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const workos = new WorkOS(kit.apiKey, { apiHostname: '127.0.0.1', port, https: false, clientId: kit.clientId });
    const authz = createAuthorizer({ workos, clientId: kit.clientId, jwksUrl: kit.jwksUrl, issuer: kit.issuer, timeout: TIMEOUT });
    const app = build(authz, routes);
    try {
      for (const token of [aliceWithMembership(), aliceLookedUp()]) {
        const started = Date.now();
        expectGuardAnswer(await request(app.server).get('/projects/p-1').set(bearer(token)), 503, 'unavailable', [token]);
        expect(Date.now() - started).toBeLessThan(TIMEOUT + SLACK);
      }
      expect(app.handledErrors).toEqual([]);
    } finally {
      await closeServer(app.server);
    }
  });
});
