import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GenericServerException, RateLimitExceededException, UnauthorizedException, WorkOS } from '@workos-inc/node';
import { createTestKit, demoSeed, type TestKit } from '../../testing/index.js';

const run = promisify(execFile);

let kit: TestKit;
let workos: WorkOS;
beforeAll(async () => {
  kit = await createTestKit({ seed: demoSeed });
  workos = kit.workos({ maxRetries: 0 });
});
afterAll(() => kit.close());
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
});

const check = (client = workos) =>
  client.authorization.check({ organizationMembershipId: 'om_alice', permissionSlug: 'app:deploy', resourceExternalId: 'a-1', resourceTypeSlug: 'app' });

describe('fault injection', () => {
  it('answers with an injected status, for the next N calls only', async () => {
    kit.inject('check', { status: 500, times: 1 });
    await expect(check()).rejects.toMatchObject({ name: 'GenericServerException', status: 500, message: 'Injected fault' });
    expect(await check()).toEqual({ authorized: true });
    expect(kit.calls('check')).toBe(2);
  });

  it('passes headers through, so the SDK sees Retry-After on a 429', async () => {
    kit.inject('check', { status: 429, headers: { 'Retry-After': '7' }, body: { message: 'Slow down' }, times: 1 });
    const error: unknown = await check().catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(RateLimitExceededException);
    expect(error).toMatchObject({ retryAfter: 7, message: 'Slow down' });
  });

  it('is retried by a default SDK client until the fault is used up', async () => {
    kit.inject('check', { status: 503, headers: { 'Retry-After': '0' }, times: 2 });
    expect(await check(kit.workos())).toEqual({ authorized: true });
    expect(kit.calls('check')).toBe(3);
  });

  it('delays the normal answer', async () => {
    kit.inject('check', { delay: 150, times: 1 });
    const started = Date.now();
    expect(await check()).toEqual({ authorized: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('sends a malformed body', async () => {
    kit.inject('check', { status: 200, body: '{"authorized": tru', headers: { 'content-type': 'application/json' }, times: 1 });
    await expect(check()).rejects.toMatchObject({ name: 'ParseError' });
  });

  it('drops the connection', async () => {
    kit.inject('check', { drop: true, times: 1 });
    const error: unknown = await check().catch((rejection: unknown) => rejection);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(GenericServerException);
    expect(await check()).toEqual({ authorized: true });
  });

  it('targets one endpoint, or every endpoint with *, until removed', async () => {
    const removeFault = kit.inject('getResource', { status: 500 });
    expect(await check()).toEqual({ authorized: true });
    await expect(workos.authorization.getResource('authz_resource_a_1')).rejects.toBeInstanceOf(GenericServerException);
    await expect(workos.authorization.getResource('authz_resource_a_1')).rejects.toBeInstanceOf(GenericServerException);
    removeFault();
    expect((await workos.authorization.getResource('authz_resource_a_1')).externalId).toBe('a-1');

    kit.inject('*', { status: 502 });
    await expect(check()).rejects.toMatchObject({ status: 502 });
    expect((await fetch(kit.jwksUrl)).status).toBe(502);
    kit.clearFaults();
    expect((await fetch(kit.jwksUrl)).status).toBe(200);
  });
});

describe('call counters', () => {
  it('counts calls per endpoint and in total', async () => {
    await check();
    await check();
    await workos.userManagement.listOrganizationMemberships({ userId: 'user_alice' });
    expect(kit.calls('check')).toBe(2);
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    expect(kit.calls('jwks')).toBe(0);
    expect(kit.calls()).toBe(3);
    kit.resetCalls();
    expect(kit.calls()).toBe(0);
  });
});

describe('HTTP surface', () => {
  it('requires the API key', async () => {
    const stranger = new WorkOS('sk_test_wrong', { apiHostname: '127.0.0.1', port: kit.port, https: false, maxRetries: 0 });
    await expect(check(stranger)).rejects.toBeInstanceOf(UnauthorizedException);
  });

  it('answers JSON with a request id, also for unknown routes and bad JSON', async () => {
    const headers = { authorization: `Bearer ${kit.apiKey}`, 'content-type': 'application/json' };
    const unknown = await fetch(`${kit.url}/nope`, { headers });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/json');
    expect(unknown.headers.get('x-request-id')).toMatch(/^req_/);
    expect(await unknown.json()).toMatchObject({ code: 'entity_not_found' });

    const badJson = await fetch(`${kit.url}/authorization/organization_memberships/om_alice/check`, { method: 'POST', headers, body: '{' });
    expect(badJson.status).toBe(400);
    const missingField = await fetch(`${kit.url}/authorization/organization_memberships/om_alice/check`, { method: 'POST', headers, body: '{}' });
    expect(missingField.status).toBe(422);
    expect(await missingField.json()).toMatchObject({ code: 'invalid_request_parameters', errors: [{ field: 'permission_slug' }] });
  });
});

describe('close', () => {
  it('ends keep-alive connections and pending delays at once; idempotent', async () => {
    const other = await createTestKit({ seed: demoSeed });
    const client = other.workos({ maxRetries: 0 });
    await client.authorization.getResource('authz_resource_ws_1');
    other.inject('check', { delay: 10_000 });
    const stalled = check(client).catch((rejection: unknown) => rejection);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const started = Date.now();
    await Promise.all([other.close(), other.close()]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await stalled).toBeInstanceOf(Error);
    await other.close();
  });

  it('leaves no handles behind: a process that used and closed a kit exits on its own', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/close-and-exit.ts', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { timeout: 8_000 });
    expect(stdout).toBe('closed; stalled call rejected\n');
  });
});
