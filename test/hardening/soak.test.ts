import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../src/index.js';
import { createTestKit, type Fault, type TestKit } from '../../testing/index.js';
import { buildExpressApp, buildKoaApp, closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import { forge } from '../support/forge.js';
import { sleep, trackCrashes } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

/** Bounds: whichever comes first. */
const MAX_REQUESTS = 1_200;
const MAX_MS = 2_500;
const CONCURRENCY = 24;
const TIMEOUT = 300;

const routes: RouteSpec[] = [
  { path: '/projects/:id', permission: 'project:edit', resource: (id) => ({ type: 'project', externalId: id }) },
  { path: '/billing', permission: 'billing:view' },
  { path: '/me' },
];

/** Faults the unhealthy upstream cycles through; each must turn a resource check into a 503. */
const FAULTS: Fault[] = [
  { status: 500 },
  { status: 429, headers: { 'Retry-After': '1' } },
  { drop: true },
  { delay: 1_000 },
  { status: 200, body: {} },
  { status: 502, body: '<html>Bad gateway</html>' },
  { delay: 150, status: 503 },
];

/** A small deterministic PRNG (mulberry32), so a failing soak can be replayed: an integer in [0, n). */
function prng(seed: number) {
  let state = seed >>> 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
}

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Waits (bounded) until no resource type is above its count before the soak. */
async function leakedResources(before: Map<string, number>): Promise<Record<string, number>> {
  let leaked: Record<string, number> = {};
  for (let attempt = 0; attempt < 40; attempt++) {
    leaked = {};
    for (const [type, count] of resourceCounts()) if (count > (before.get(type) ?? 0)) leaked[type] = count - (before.get(type) ?? 0);
    if (Object.keys(leaked).length === 0) return leaked;
    await sleep(50);
  }
  return leaked;
}

describe('soak: mixed good, bad and faulty traffic', () => {
  it(`≤ ${MAX_REQUESTS} requests / ${MAX_MS / 1000} s on loopback: zero crashes, zero leaked handles, every answer as specified`, async () => {
    const before = resourceCounts();
    const crashes = trackCrashes();
    const healthy = await createTestKit({ seed: testSeed });
    const faulty = await createTestKit({ seed: testSeed });
    // The healthy side keeps the default budget: on a loaded 2-core runner a healthy call can take 300 ms.
    const authzHealthy = createAuthorizer({ workos: healthy.workos(), clientId: healthy.clientId });
    const authzFaulty = createAuthorizer({ workos: faulty.workos(), clientId: faulty.clientId, timeout: TIMEOUT });
    const apps: { app: AppUnderTest; kit: TestKit; faulty: boolean }[] = [
      { app: buildExpressApp(authzHealthy, routes), kit: healthy, faulty: false },
      { app: buildKoaApp(authzHealthy, routes), kit: healthy, faulty: false },
      { app: buildExpressApp(authzFaulty, routes), kit: faulty, faulty: true },
      { app: buildKoaApp(authzFaulty, routes), kit: faulty, faulty: true },
    ];

    // The faulty upstream changes its failure every 150 ms; the new fault is in place before the old one goes.
    let removeFault = () => {};
    let faultIndex = 0;
    const cycleFaults = () => {
      const fault = FAULTS[faultIndex++ % FAULTS.length]!;
      const removeCheck = faulty.inject('check', fault);
      const removeLookup = faulty.inject('listOrganizationMemberships', fault);
      removeFault();
      removeFault = () => {
        removeCheck();
        removeLookup();
      };
    };
    cycleFaults();
    const faultTimer = setInterval(cycleFaults, 150);

    const random = prng(20_240_611);
    const mint = (kit: TestKit, user: string, extra: { permissions?: string[]; membership?: string; expiresIn?: number } = {}) =>
      kit.mintToken({ user, organization: 'org_acme', ...extra });
    const tokens = (kit: TestKit) => {
      const alice = mint(kit, 'user_alice');
      return {
        alice,
        aliceWithMembership: mint(kit, 'user_alice', { membership: 'om_alice' }),
        bob: mint(kit, 'user_bob'),
        billing: mint(kit, 'user_bob', { permissions: ['billing:view'] }),
        bad: [
          mint(kit, 'user_alice', { expiresIn: -10 }),
          `${alice.slice(0, -6)}AAAAAA`,
          forge({ alg: 'none', typ: 'JWT' }, { sub: 'user_alice', org_id: 'org_acme', permissions: ['project:edit'], exp: 9e9 }),
          'not-a-jwt',
          `${alice}.extra`,
        ],
      };
    };
    const tokensOf = new Map([healthy, faulty].map((kit) => [kit, tokens(kit)]));

    type Expectation = { path: string; authorization?: string; status: number };
    /** One request and the only answer it may get. */
    function nextRequest(target: (typeof apps)[number]): Expectation {
      const t = tokensOf.get(target.kit)!;
      const upstream = (status: number) => (target.faulty ? 503 : status);
      switch (random(8)) {
        case 0:
          return { path: '/billing', authorization: `Bearer ${t.billing}`, status: 200 };
        case 1:
          return { path: '/projects/p-1', authorization: `Bearer ${t.alice}`, status: upstream(200) };
        case 2:
          return { path: '/projects/p-1', authorization: `Bearer ${t.aliceWithMembership}`, status: upstream(200) };
        case 3:
          return { path: '/projects/p-1', authorization: `Bearer ${t.bob}`, status: upstream(403) };
        case 4:
          // Distinct resources defeat the decision cache: every one is a real upstream call.
          return { path: `/projects/p-${random(100_000)}`, authorization: `Bearer ${t.alice}`, status: upstream(403) };
        case 5:
          return { path: '/projects/p-1', authorization: `Bearer ${t.bad[random(t.bad.length)]}`, status: 401 };
        case 6:
          return random(2) ? { path: '/me', status: 401 } : { path: '/me', authorization: 'Bearer', status: 400 };
        default:
          return { path: '/me', authorization: `Bearer ${t.aliceWithMembership}`, status: 200 };
      }
    }

    const started = Date.now();
    let sent = 0;
    const mismatches: string[] = [];
    const tally = new Map<number, number>();
    let slowestFaulty = 0;

    async function worker() {
      while (sent < MAX_REQUESTS && Date.now() - started < MAX_MS) {
        sent += 1;
        const target = apps[random(apps.length)]!;
        const expected = nextRequest(target);
        const req = request(target.app.server).get(expected.path);
        const begun = Date.now();
        const res = await (expected.authorization ? req.set('Authorization', expected.authorization) : req);
        if (target.faulty) slowestFaulty = Math.max(slowestFaulty, Date.now() - begun);
        tally.set(res.status, (tally.get(res.status) ?? 0) + 1);
        const ok =
          res.status === expected.status &&
          (res.status !== 503 || /^[1-9]\d*$/.test(res.headers['retry-after'] ?? '')) &&
          (res.status === 200 || typeof res.body.error === 'string');
        if (!ok && mismatches.length < 10) {
          mismatches.push(`${target.app.framework}${target.faulty ? ' (faulty)' : ''} ${expected.path}: ${res.status}, expected ${expected.status}`);
        }
      }
    }

    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      clearInterval(faultTimer);
      for (const { app } of apps) await closeServer(app.server);
      await healthy.close();
      await faulty.close();
    }
    const elapsed = Date.now() - started;

    expect(mismatches).toEqual([]);
    expect(sent).toBeGreaterThan(200);
    expect(sent).toBeLessThanOrEqual(MAX_REQUESTS);
    expect(elapsed).toBeLessThan(MAX_MS + 2_000);
    // Every kind of answer was exercised.
    for (const status of [200, 400, 401, 403, 503]) expect(tally.get(status) ?? 0, `answers with ${status}`).toBeGreaterThan(0);
    expect([...tally.keys()].sort()).toEqual([200, 400, 401, 403, 503]);
    for (const { app } of apps) expect(app.handledErrors).toEqual([]);
    // No request on the faulty side waited much beyond its budget, whatever the upstream did.
    expect(slowestFaulty).toBeLessThan(TIMEOUT + 1_000);

    // The abandoned upstream calls (the 1 s delays) have settled by now; nothing may be left running.
    expect(await leakedResources(before)).toEqual({});
    crashes.stop();
    expect(crashes.crashes).toEqual([]);
  }, 20_000);
});
