import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer, isFgaGuardError, type Authorizer } from '../../src/index.js';
import { createTestKit, type EndpointName, type Fault, type TestKit } from '../../testing/index.js';
import { closeServer, type AppUnderTest, type RouteSpec } from '../support/apps.js';
import { bearer, CHALLENGE, expectGuardAnswer, expectNoLeak, primaryFrameworks } from '../support/hardening.js';
import { testSeed } from '../support/model.js';

const SECRET = { code: 'internal', message: 'UPSTREAM-SECRET Error: at Db.query (db.js:12)' };

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());

const project = (id: string) => ({ type: 'project', externalId: id });
const routes: RouteSpec[] = [
  { path: '/projects/:id', permission: 'project:edit', resource: project },
  { path: '/passing/:id', permission: 'project:edit', resource: project, onError: 'pass' },
  { path: '/cors/:id', method: 'options', permission: 'project:edit', resource: project, allowPreflight: true },
  { path: '/cors-auth', method: 'options', allowPreflight: true },
  { path: '/no-cors/:id', method: 'options', permission: 'project:edit', resource: project },
];

interface AnswerCase {
  name: string;
  header: () => string | undefined;
  path?: string;
  faults?: [EndpointName, Fault][];
  status: number;
  error: string;
}

const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
const bob = () => kit.mintToken({ user: 'user_bob', organization: 'org_acme' });

/** One of each answer fga-guard gives on its own. */
const answers: AnswerCase[] = [
  { name: 'no credentials', header: () => undefined, status: 401, error: 'unauthorized' },
  { name: 'another scheme', header: () => `Basic ${Buffer.from(`user:${alice()}`).toString('base64')}`, status: 401, error: 'unauthorized' },
  { name: 'two tokens', header: () => `Bearer ${alice()} ${alice()}`, status: 400, error: 'invalid_request' },
  { name: 'an expired token', header: () => `Bearer ${kit.mintToken({ user: 'user_alice', organization: 'org_acme', expiresIn: -5 })}`, status: 401, error: 'invalid_token' },
  { name: 'a tampered token', header: () => `Bearer ${alice().slice(0, -3)}abc`, status: 401, error: 'invalid_token' },
  { name: 'not granted', header: () => `Bearer ${bob()}`, status: 403, error: 'forbidden' },
  { name: 'JWKS down', header: () => `Bearer ${alice()}`, path: '/projects/p-1?fresh', faults: [['jwks', { status: 500, body: SECRET }]], status: 503, error: 'unavailable' },
  { name: 'check 500', header: () => `Bearer ${alice()}`, faults: [['check', { status: 500, body: SECRET }]], status: 503, error: 'unavailable' },
  { name: 'check 429', header: () => `Bearer ${alice()}`, faults: [['check', { status: 429, body: SECRET, headers: { 'Retry-After': '9' } }]], status: 503, error: 'unavailable' },
  { name: 'check slow', header: () => `Bearer ${alice()}`, faults: [['check', { delay: 2_000 }]], status: 503, error: 'unavailable' },
  { name: 'check malformed', header: () => `Bearer ${alice()}`, faults: [['check', { status: 200, body: { authorized: 'UPSTREAM-SECRET' } }]], status: 503, error: 'unavailable' },
  { name: 'membership lookup reset', header: () => `Bearer ${alice()}`, faults: [['listOrganizationMemberships', { drop: true }]], status: 503, error: 'unavailable' },
  { name: 'API key refused', header: () => `Bearer ${alice()}`, faults: [['listOrganizationMemberships', { status: 401, body: SECRET }]], status: 503, error: 'unavailable' },
];

describe.each(primaryFrameworks)('$name: responses', ({ build }) => {
  let authz: Authorizer;
  let app: AppUnderTest;
  let fresh: AppUnderTest | undefined;
  beforeAll(() => {
    authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: 250 });
    app = build(authz, routes);
  });
  afterAll(() => closeServer(app.server));
  afterEach(async () => {
    kit.clearFaults();
    authz.clearCache();
    app.handledErrors.length = 0;
    if (fresh) await closeServer(fresh.server);
    fresh = undefined;
  });

  it.each(answers)('$name → $status: fixed JSON body, quoted challenge, no token, stack or upstream text', async (answer) => {
    const header = answer.header();
    let target = app;
    if (answer.path?.endsWith('?fresh')) {
      // A cold JWKS cache, to see the JWKS fault.
      fresh = build(createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: 250 }), routes);
      target = fresh;
    }
    for (const [endpoint, fault] of answer.faults ?? []) kit.inject(endpoint, fault);
    const req = request(target.server).get(answer.path ?? '/projects/p-1');
    const res = header === undefined ? await req : await req.set('Authorization', header);
    const token = header?.split(' ')[1] ?? '';
    expectGuardAnswer(res, answer.status, answer.error, [token]);
    expect(res.body.message).toMatch(/^[A-Za-z ]+$/);
    if (answer.status === 403) expect(res.body).toEqual({ error: 'forbidden', message: 'Permission denied', permission: 'project:edit' });
  });

  it.each(answers)('onError pass: $name reaches the app handler as an error that carries nothing secret', async (answer) => {
    if (answer.path) return; // the JWKS case is covered above
    for (const [endpoint, fault] of answer.faults ?? []) kit.inject(endpoint, fault);
    const header = answer.header();
    const req = request(app.server).get('/passing/p-1');
    const res = header === undefined ? await req : await req.set('Authorization', header);
    expect(res.body).toEqual({ handledBy: 'app', status: answer.status });
    const [error] = app.handledErrors as Error[];
    expect(isFgaGuardError(error)).toBe(true);
    const exposed = JSON.stringify({ message: error!.message, cause: String(error!.cause ?? ''), ...error });
    expect(exposed).not.toMatch(/UPSTREAM-SECRET|Injected fault/);
    if (header) expect(exposed).not.toContain(header.split(' ')[1]);
  });

  describe('WWW-Authenticate', () => {
    it('stays quoted and free of CR/LF with any configured realm', async () => {
      for (const realm of ['', 'My API (production) / v2', "it's ok: a=b, c=d", '~!#$%&*+-.^_`|']) {
        const withRealm = build(createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, realm }), routes);
        try {
          for (const header of [undefined, 'Bearer', 'Bearer x.y.z', `Bearer ${bob()}`]) {
            const req = request(withRealm.server).get('/projects/p-1');
            const res = header === undefined ? await req : await req.set('Authorization', header);
            expect(res.headers['www-authenticate'], `${realm} ${header}`).toMatch(CHALLENGE);
            expect(res.headers['www-authenticate']).toContain(`realm="${realm}"`);
            expectNoLeak(res);
          }
        } finally {
          await closeServer(withRealm.server);
        }
      }
    });

    it('refuses a realm that could break the header', () => {
      for (const realm of ['a"b', 'a\\b', 'a\r\nSet-Cookie: x=1', 'a\nb', 'tab\there', 'é', '\u0000']) {
        expect(() => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, realm }), JSON.stringify(realm)).toThrow(/realm/);
      }
    });
  });

  describe('CORS preflight', () => {
    const preflight = (path: string) =>
      request(app.server).options(path).set('Origin', 'https://app.example.test').set('Access-Control-Request-Method', 'PATCH');

    it('passes through untouched when allowed: no check, no challenge, no headers of ours', async () => {
      kit.resetCalls();
      for (const path of ['/cors/p-1', '/cors-auth']) {
        for (const res of [await preflight(path), await preflight(path).set('Authorization', 'Bearer not.a.token')]) {
          expect(res.status).toBe(200);
          expect(res.body.ok).toBe(true);
          expect(res.body.auth.userId).toBeUndefined();
          expect(res.headers['www-authenticate']).toBeUndefined();
          expect(res.headers['cache-control']).toBeUndefined();
          expect(res.headers['retry-after']).toBeUndefined();
        }
      }
      expect(kit.calls()).toBe(0);
    });

    it('an OPTIONS without Access-Control-Request-Method is not a preflight: guarded', async () => {
      const res = await request(app.server).options('/cors/p-1');
      expectGuardAnswer(res, 401, 'unauthorized');
    });

    it('is guarded like any request when not configured', async () => {
      expectGuardAnswer(await preflight('/no-cors/p-1'), 401, 'unauthorized');
      const ok = await preflight('/no-cors/p-1').set(bearer(alice()));
      expect(ok.status).toBe(200);
      expect(ok.body.auth.userId).toBe('user_alice');
    });
  });
});
