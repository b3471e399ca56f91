import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthorizer, ServiceUnavailableError, type Authorizer, type Principal } from '../src/index.js';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

let kit: TestKit;
let authz: Authorizer;

beforeAll(async () => {
  kit = await createTestKit({ seed: testSeed });
  authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
});
afterAll(() => kit.close());
beforeEach(() => {
  kit.clearFaults();
  kit.resetCalls();
  authz.clearCache();
});

const p1 = { type: 'project', externalId: 'p-1' };
const p2 = { type: 'project', externalId: 'p-2' };
/** Alice: member of org_acme (workspace:view in the token), workspace-admin on ws-1 (so project:edit on p-1). */
const alice = (): Promise<Principal> => authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));

describe('can', () => {
  it('answers the decision as a boolean, and rejects only when it cannot decide', async () => {
    const principal = await alice();
    expect(await authz.can(principal, 'project:edit', p1)).toBe(true);
    expect(await authz.can(principal, 'project:edit', p2)).toBe(false);
    expect(await authz.can(principal, 'workspace:view')).toBe(true);
    kit.inject('check', { status: 500 });
    await expect(authz.can(principal, 'app:deploy', p1)).rejects.toThrow(ServiceUnavailableError);
  });
});

describe('checkMany', () => {
  it('answers in input order, each as check would, identical entries decided once', async () => {
    const principal = await alice();
    const decisions = await authz.checkMany(principal, [
      { permission: 'project:edit', resource: p1 },
      { permission: 'workspace:view' },
      { permission: 'project:edit', resource: p2 },
      { permission: 'project:edit', resource: { ...p1 } },
      { permission: 'billing:view' },
    ]);
    expect(decisions.map((d) => [d.permission, d.allowed, d.source])).toEqual([
      ['project:edit', true, 'api'],
      ['workspace:view', true, 'token'],
      ['project:edit', false, 'api'],
      ['project:edit', true, 'api'],
      ['billing:view', false, 'token'],
    ]);
    expect(decisions[3]).toBe(decisions[0]);
    expect(kit.calls('check')).toBe(2);
  });

  it('runs upstream calls in parallel, `concurrency` at once', async () => {
    const principal = await alice();
    kit.inject('check', { delay: 150 });
    const checks = ['project:edit', 'project:view', 'app:deploy', 'workspace:edit'].map((permission) => ({ permission, resource: p1 }));
    let started = Date.now();
    await authz.checkMany(principal, checks);
    const parallel = Date.now() - started;
    authz.clearCache();
    started = Date.now();
    await authz.checkMany(principal, checks, { concurrency: 2 });
    const twoAtOnce = Date.now() - started;
    expect(parallel).toBeLessThan(300);
    expect(twoAtOnce).toBeGreaterThanOrEqual(300);
  });

  it('has one budget for the whole call, and fails whole when any entry cannot be decided', async () => {
    const tight = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId, timeout: 400 });
    const principal = await tight.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme', membership: 'om_alice' }));
    kit.inject('check', { delay: 250 });
    const checks = ['project:edit', 'project:view'].map((permission) => ({ permission, resource: p1 }));
    // One at a time, the second call starts 250 ms into a 400 ms budget.
    await expect(tight.checkMany(principal, checks, { concurrency: 1 })).rejects.toMatchObject({ reason: 'timeout' });
    kit.clearFaults();
    kit.inject('check', { status: 500, times: 2 });
    await expect(tight.checkMany(principal, checks.slice(0, 1).concat({ permission: 'app:deploy', resource: p2 }))).rejects.toThrow(ServiceUnavailableError);
  });

  it('refuses bad input before asking anything', async () => {
    const principal = await alice();
    kit.resetCalls();
    for (const bad of [undefined, 'project:edit', [{ permission: '' }], [{ permission: 'project:edit', resource: { id: '' } }], [null]]) {
      await expect(authz.checkMany(principal, bad as never)).rejects.toThrow(TypeError);
    }
    await expect(authz.checkMany(principal, [{ permission: 'project:edit', resource: p1 }], { concurrency: 0 })).rejects.toThrow(TypeError);
    expect(kit.calls()).toBe(0);
  });
});

describe('membershipOf', () => {
  it('is the claim, else the looked-up active membership (remembered), else null', async () => {
    expect(await authz.membershipOf(await alice())).toBe('om_alice');
    const lookedUp = await authz.verify(kit.mintToken({ user: 'user_bob', organization: 'org_acme' }));
    expect(await authz.membershipOf(lookedUp)).toBe('om_bob');
    expect(await authz.membershipOf(lookedUp)).toBe('om_bob');
    expect(kit.calls('listOrganizationMemberships')).toBe(1);
    const inactive = await authz.verify(kit.mintToken({ user: 'user_dan', organization: 'org_acme' }));
    expect(await authz.membershipOf(inactive)).toBeNull();
  });
});
