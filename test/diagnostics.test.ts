// Issue #24: denial reasons, configuration mistakes told once, preflight and explain, against the test kit.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import express from 'express';
import request from 'supertest';
import { createAuthorizer, ServiceUnavailableError, type Authorizer, type AuthorizerOptions, type Diagnostic } from '../src/index.js';
import { requirePermission } from '../adapters/express.js';
import { requirePermission as koaRequirePermission } from '../adapters/koa.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

let kit: TestKit;
beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
});
afterAll(() => kit.close());
afterEach(() => {
  kit.clearFaults();
  vi.restoreAllMocks();
});

/** An authorizer on the kit whose logger records what it is told. */
function watched(options: AuthorizerOptions = {}): { authz: Authorizer; told: Diagnostic[] } {
  const told: Diagnostic[] = [];
  const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, logger: (_message, diagnostic) => told.push(diagnostic), ...options });
  return { authz, told };
}

const alice = () => kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' });
const bob = () => kit.mintToken({ user: 'user_bob', organization: 'org_acme', membership: 'om_bob' });
const project = (externalId: string, type = 'project') => ({ type, externalId });

describe('decision.reason tells what WorkOS did not know', () => {
  it('not_granted, unknown_permission, unknown_resource (also for a case-mismatched type) and unknown_membership', async () => {
    const { authz } = watched();
    const principal = await authz.verify(alice());
    expect(await authz.check(principal, 'project:edit', project('p-1'))).toMatchObject({ allowed: true });
    expect(await authz.check(await authz.verify(bob()), 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'not_granted' });
    expect(await authz.check(principal, 'project:delete', project('p-1'))).toMatchObject({ allowed: false, reason: 'unknown_permission' });
    expect(await authz.check(principal, 'project:edit', project('p-404'))).toMatchObject({ allowed: false, reason: 'unknown_resource' });
    expect(await authz.check(principal, 'project:edit', project('p-1', 'Project'))).toMatchObject({ allowed: false, reason: 'unknown_resource' });
    const ghost = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_ghost', unchecked: true }));
    expect(await authz.check(ghost, 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'unknown_membership' });
  });

  it('an inactive membership is no membership: the lookup finds none', async () => {
    const { authz } = watched();
    const dan = await authz.verify(kit.mintToken({ user: 'user_dan', organization: 'org_acme' }));
    expect(await authz.check(dan, 'project:edit', project('p-1'))).toMatchObject({ allowed: false, reason: 'no_membership' });
  });

  it('a remembered denial keeps its reason', async () => {
    const { authz } = watched();
    const principal = await authz.verify(alice());
    expect(await authz.check(principal, 'project:delete', project('p-1'))).toMatchObject({ source: 'api', reason: 'unknown_permission' });
    expect(await authz.check(principal, 'project:delete', project('p-1'))).toMatchObject({ source: 'cache', reason: 'unknown_permission' });
    expect(await authz.check(principal, 'project:edit', project('p-404'))).toMatchObject({ source: 'api', reason: 'unknown_resource' });
    expect(await authz.check(principal, 'project:edit', project('p-404'))).toMatchObject({ source: 'cache', reason: 'unknown_resource' });
  });

  it('clients get the same 403 whatever the reason (existence is not leaked)', async () => {
    const { authz } = watched({ logger: false });
    const app = express();
    app.get('/p/:id', requirePermission(authz, 'project:edit', { resource: (req) => project(String(req.params.id)) }), (_req, res) => void res.json({}));
    app.get('/delete/:id', requirePermission(authz, 'project:delete', { resource: (req) => project(String(req.params.id)) }), (_req, res) => void res.json({}));
    const notGranted = await request(app).get('/p/p-1').set('Authorization', `Bearer ${bob()}`);
    const unknownResource = await request(app).get('/p/p-404').set('Authorization', `Bearer ${bob()}`);
    const unknownPermission = await request(app).get('/delete/p-1').set('Authorization', `Bearer ${bob()}`);
    expect(notGranted.status).toBe(403);
    for (const response of [unknownResource, unknownPermission]) {
      expect(response.status).toBe(403);
      expect(response.body).toEqual({ ...notGranted.body, permission: response.body.permission });
    }
  });
});

describe('configuration mistakes are told once, with a fix', () => {
  it('an unknown permission slug and a case-mismatched resource type: once each, however many requests', async () => {
    const { authz, told } = watched({ cache: false });
    const principal = await authz.verify(alice());
    for (let i = 0; i < 3; i++) {
      await authz.check(principal, 'project:delete', project('p-1'));
      await authz.check(principal, 'project:edit', project('p-1', 'Project'));
      await authz.check(principal, 'project:edit', project('p-404'));
    }
    expect(told).toEqual([
      expect.objectContaining({ code: 'unknown_permission', slug: 'project:delete', hint: expect.stringMatching(/dashboard/) }),
      expect.objectContaining({ code: 'unknown_resource_type', slug: 'Project', hint: expect.stringMatching(/case-sensitive/) }),
    ]);
    expect(kit.unknownSlugs()).toEqual(
      expect.arrayContaining([
        { kind: 'permission', slug: 'project:delete' },
        { kind: 'resource_type', slug: 'Project' },
      ]),
    );
  });

  it('a wrong client id (the JWKS answers 404): every request is a 503, and the logger is told once why', async () => {
    const { authz, told } = watched({ clientId: 'client_wrong' });
    for (let i = 0; i < 3; i++) await expect(authz.verify(alice())).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(told).toEqual([expect.objectContaining({ code: 'jwks_not_found', hint: expect.stringMatching(/WORKOS_CLIENT_ID/) })]);
  });

  it('WorkOS refusing the API key (401): 503, told once; the key is never logged', async () => {
    const messages: string[] = [];
    const { authz, told } = watched({ apiKey: 'sk_test_wrong', cache: false, logger: (message, diagnostic) => {
      messages.push(message);
      told.push(diagnostic);
    } });
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    for (let i = 0; i < 2; i++) await expect(authz.check(principal, 'project:edit', project('p-1'))).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(told).toEqual([expect.objectContaining({ code: 'api_key_refused', hint: expect.stringMatching(/WORKOS_API_KEY/) })]);
    expect(messages.join('\n')).not.toContain('sk_test_wrong');
  });

  it('the default logger is console.warn; false silences it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const noisy = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    await noisy.check(await noisy.verify(alice()), 'project:delete', project('p-1'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/^fga-guard: WorkOS does not know the permission "project:delete"/);
    const quiet = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, logger: false });
    await quiet.check(await quiet.verify(alice()), 'project:delete', project('p-1'));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(() => createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, logger: 'loud' as never })).toThrow(/logger/);
  });
});

describe('authz.preflight()', () => {
  it('passes for an authorizer whose guards name what the environment holds', async () => {
    const { authz } = watched();
    requirePermission(authz, 'project:edit', { resource: project('p-1') });
    koaRequirePermission(authz, 'app:deploy', { resource: { type: 'app', externalId: 'a-1' } });
    const report = await authz.preflight();
    expect(report.checks.map((check) => check.name)).toEqual(['api_key_format', 'client_id_format', 'issuer', 'api_key', 'jwks', 'permissions', 'resource_types']);
    expect(report.checks.filter((check) => !check.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('names a missing permission and a case-mismatched resource type, with hints; it never throws', async () => {
    const { authz } = watched();
    requirePermission(authz, 'project:edti', { resource: project('p-1', 'Project') });
    const report = await authz.preflight();
    expect(report.ok).toBe(false);
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(byName.permissions).toMatchObject({ ok: false, message: expect.stringContaining('"project:edti" (did you mean "project:edit"?)'), hint: expect.any(String) });
    expect(byName.resource_types).toMatchObject({ ok: false, message: expect.stringContaining('"Project" (did you mean "project"?)'), hint: expect.stringMatching(/case-sensitive/) });
    expect(byName.api_key?.ok).toBe(true);
  });

  it('a wrong client id fails the JWKS check; a refused API key fails the key check and skips the slugs', async () => {
    const wrongClient = await watched({ clientId: 'client_wrong' }).authz.preflight();
    expect(wrongClient.checks.find((check) => check.name === 'jwks')).toMatchObject({ ok: false, message: expect.stringMatching(/404/), hint: expect.stringMatching(/client id/) });
    const wrongKey = await watched({ apiKey: 'sk_test_wrong' }).authz.preflight();
    expect(wrongKey.checks.find((check) => check.name === 'api_key')).toMatchObject({ ok: false, message: expect.stringMatching(/refused the API key \(401\)/) });
    expect(wrongKey.checks.find((check) => check.name === 'permissions')?.ok).toBe(false);
    expect(JSON.stringify(wrongKey)).not.toContain('sk_test_wrong');
    const badFormats = await watched({ apiKey: 'pk_oops', clientId: 'oops' }).authz.preflight();
    expect(badFormats.checks.filter((check) => !check.ok).map((check) => check.name)).toEqual(expect.arrayContaining(['api_key_format', 'client_id_format']));
  });

  it('with machines configured, checks their JWKS too: its keys, or a 404 with a hint about the AuthKit domain', async () => {
    const good = await watched({ machines: { issuer: kit.machineIssuer } }).authz.preflight();
    expect(good.checks.find((check) => check.name === 'machine_jwks')).toMatchObject({ ok: true, message: expect.stringContaining(kit.machineJwksUrl) });
    const wrong = await watched({ machines: { issuer: `${kit.url}/not-authkit` } }).authz.preflight();
    expect(wrong.ok).toBe(false);
    expect(wrong.checks.find((check) => check.name === 'machine_jwks')).toMatchObject({ ok: false, message: expect.stringMatching(/404/), hint: expect.stringMatching(/machines\.issuer/) });
    expect(wrong.checks.find((check) => check.name === 'jwks')?.ok).toBe(true);
  });
});

describe('authz.explain()', () => {
  it('an allow inherited from an ancestor: the role assignment, the effective permissions', async () => {
    const { authz } = watched();
    const token = alice();
    const explanation = await authz.explain(await authz.verify(token), 'app:deploy', { type: 'app', externalId: 'a-1' });
    expect(explanation).toMatchObject({
      allowed: true,
      permission: 'app:deploy',
      token: { grants: false },
      membership: { id: 'om_alice', status: 'active', from: 'token' },
      resourcePath: [{ externalId: 'a-1', type: 'app' }, { externalId: 'p-1', type: 'project' }, { externalId: 'ws-1', type: 'workspace' }],
      roleAssignments: [{ role: 'workspace-admin', on: 'ancestor', resource: { externalId: 'ws-1' } }],
    });
    expect(explanation.effectivePermissions).toContain('app:deploy');
    expect(JSON.stringify(explanation)).not.toContain(token);
  });

  it('a denial: why, in plain words', async () => {
    const { authz } = watched();
    const explanation = await authz.explain(await authz.verify(bob()), 'project:edit', project('p-1'));
    expect(explanation).toMatchObject({ allowed: false, reason: 'not_granted', roleAssignments: [], membership: { id: 'om_bob', status: 'active' } });
    expect(explanation.effectivePermissions).not.toContain('project:edit');
    expect(explanation.notes.join('\n')).toMatch(/no role is assigned/);
  });

  it('an inactive membership, and a resource type WorkOS does not know', async () => {
    const { authz } = watched({ logger: false });
    const dan = await authz.verify(kit.mintToken({ user: 'user_dan', organization: 'org_acme', membership: 'om_dan' }));
    const inactive = await authz.explain(dan, 'project:edit', project('p-1'));
    expect(inactive).toMatchObject({ allowed: false, membership: { id: 'om_dan', status: 'inactive' } });
    expect(inactive.notes.join('\n')).toMatch(/om_dan is inactive/);
    const mistyped = await authz.explain(await authz.verify(alice()), 'project:edit', project('p-1', 'Project'));
    expect(mistyped).toMatchObject({ allowed: false, reason: 'unknown_resource', resourcePath: [] });
    expect(mistyped.notes.join('\n')).toMatch(/case-sensitive/);
  });
});
