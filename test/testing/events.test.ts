import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundException, SignatureVerificationException, UnprocessableEntityException, type WorkOS } from '@workos-inc/node';
import { createTestKit, type TestKit, type TestKitSeed } from '../../testing/index.js';

const seed: TestKitSeed = {
  resourceTypes: [{ slug: 'workspace' }],
  roles: [
    { slug: 'member', permissions: ['org:view'] },
    { slug: 'workspace-admin', resourceType: 'workspace', permissions: ['workspace:edit'] },
  ],
  organizations: [
    { id: 'org_acme', name: 'Acme' },
    { id: 'org_globex', name: 'Globex' },
  ],
  users: [
    { id: 'user_alice', email: 'alice@acme.test' },
    { id: 'user_carol', email: 'carol@globex.test' },
  ],
  memberships: [
    { id: 'om_alice', user: 'user_alice', organization: 'org_acme' },
    { id: 'om_carol', user: 'user_carol', organization: 'org_globex' },
  ],
  resources: [{ type: 'workspace', externalId: 'ws-1', organization: 'org_acme' }],
  groups: [{ id: 'group_eng', organization: 'org_acme', name: 'Engineering' }],
};

const ALL_TYPES = [
  'organization_membership.created',
  'organization_membership.updated',
  'role.created',
  'role.updated',
  'organization_role.created',
  'organization_role.deleted',
  'permission.created',
  'permission.updated',
  'permission.deleted',
  'group.member_added',
  'group.member_removed',
  'session.revoked',
] as const;

let kit: TestKit;
let workos: WorkOS;
beforeEach(async () => {
  kit = await createTestKit({ seed });
  workos = kit.workos({ maxRetries: 0 });
});
afterEach(() => kit.close());

const types = () => kit.events().map((event) => event.event);

describe('event log', () => {
  it('records nothing for the initial seed, nor for resources and role assignments (WorkOS has no such events)', async () => {
    await workos.authorization.createResource({ organizationId: 'org_acme', resourceTypeSlug: 'workspace', externalId: 'ws-2', name: 'Two' });
    await workos.authorization.assignRole({
      organizationMembershipId: 'om_alice',
      roleSlug: 'workspace-admin',
      resourceExternalId: 'ws-2',
      resourceTypeSlug: 'workspace',
    });
    expect(kit.events()).toEqual([]);
    expect((await workos.events.listEvents({ events: [...ALL_TYPES] })).data).toEqual([]);
  });

  it('lists every mutation in order, with data the SDK deserializes', async () => {
    await workos.userManagement.deactivateOrganizationMembership('om_alice');
    await workos.authorization.createPermission({ slug: 'doc:read', name: 'Read documents' });
    await workos.authorization.addEnvironmentRolePermission('member', { permissionSlug: 'doc:read' });
    const sid = 'session_alice';
    kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: sid });
    kit.revokeSession(sid);

    const { data } = await workos.events.listEvents({ events: [...ALL_TYPES] });
    expect(data.map((event) => event.event)).toEqual(['organization_membership.updated', 'permission.created', 'role.updated', 'session.revoked']);
    const [membership, permission, role, session] = data;
    expect(membership?.data).toMatchObject({ object: 'organization_membership', id: 'om_alice', userId: 'user_alice', organizationId: 'org_acme', status: 'inactive', role: { slug: 'member' } });
    expect(permission?.data).toMatchObject({ object: 'permission', slug: 'doc:read', name: 'Read documents', resourceTypeSlug: 'organization' });
    expect(role?.data).toMatchObject({ object: 'role', slug: 'member', resourceTypeSlug: 'organization', permissions: ['org:view', 'doc:read'] });
    expect(session?.data).toMatchObject({ object: 'session', id: sid, userId: 'user_alice', organizationId: 'org_acme', status: 'revoked' });
    expect(data.every((event) => typeof event.id === 'string' && event.id.startsWith('event_'))).toBe(true);
    // The kit's own record is what the API serves.
    expect(kit.events().map((event) => event.id)).toEqual(data.map((event) => event.id));
  });

  it('records organization roles, permission changes and kit-side changes', async () => {
    await workos.authorization.createOrganizationRole('org_acme', { slug: 'org-auditor', name: 'Auditor' });
    await workos.authorization.deleteOrganizationRole('org_acme', 'org-auditor');
    await workos.authorization.updatePermission('org:view', { name: 'View the organization' });
    await workos.authorization.deletePermission('workspace:edit');
    kit.setMembershipStatus('om_carol', 'inactive');
    kit.addGroupMember('group_eng', 'om_alice');
    kit.addGroupMember('group_eng', 'om_alice'); // already a member: nothing changes, nothing recorded
    kit.removeGroupMember('group_eng', 'om_alice');

    const { data } = await workos.events.listEvents({ events: [...ALL_TYPES], limit: 100 });
    expect(data.map((event) => event.event)).toEqual([
      'organization_role.created',
      'organization_role.deleted',
      'permission.updated',
      'permission.deleted',
      'organization_membership.updated',
      'group.member_added',
      'group.member_removed',
    ]);
    expect(data[0]?.data).toMatchObject({ object: 'organization_role', organizationId: 'org_acme', slug: 'org-auditor', name: 'Auditor' });
    expect(data[3]?.data).toMatchObject({ slug: 'workspace:edit', resourceTypeSlug: 'organization' });
    expect(data[4]?.data).toMatchObject({ id: 'om_carol', status: 'inactive' });
    expect(data[5]?.data).toEqual({ groupId: 'group_eng', organizationMembershipId: 'om_alice' });
  });

  it('records what a run-time seed creates, in order', async () => {
    kit.seed({
      roles: [{ slug: 'auditor', permissions: ['audit:read'] }],
      organizations: [{ id: 'org_initech', name: 'Initech' }],
      users: [{ id: 'user_peter', email: 'peter@initech.test' }],
      memberships: [{ id: 'om_peter', user: 'user_peter', organization: 'org_initech', role: 'auditor' }],
      groups: [{ id: 'group_ops', organization: 'org_initech', name: 'Ops', members: ['om_peter'] }],
    });
    expect(types()).toEqual([
      'organization.created',
      'user.created',
      'permission.created',
      'role.created',
      'organization_membership.created',
      'group.created',
      'group.member_added',
    ]);
    const { data } = await workos.events.listEvents({ events: ['organization.created', 'user.created', 'group.created', 'organization_membership.created'] });
    expect(data.map((event) => event.data)).toMatchObject([
      { object: 'organization', id: 'org_initech', name: 'Initech', domains: [] },
      { object: 'user', id: 'user_peter', email: 'peter@initech.test' },
      { object: 'organization_membership', id: 'om_peter', organizationId: 'org_initech', role: { slug: 'auditor' } },
      { object: 'group', id: 'group_ops', organizationId: 'org_initech', name: 'Ops' },
    ]);
  });
});

describe('GET /events', () => {
  async function makeEvents(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await workos.authorization.createPermission({ slug: `p:${i}`, name: `P ${i}` });
  }

  it('pages with the after cursor, oldest first', async () => {
    await makeEvents(5);
    const first = await workos.events.listEvents({ events: ['permission.created'], limit: 2 });
    expect(first.data.map((event) => (event.data as { slug: string }).slug)).toEqual(['p:0', 'p:1']);
    expect(first.listMetadata.after).toBe(first.data[1]?.id);
    const second = await workos.events.listEvents({ events: ['permission.created'], limit: 2, after: first.listMetadata.after ?? '' });
    expect(second.data.map((event) => (event.data as { slug: string }).slug)).toEqual(['p:2', 'p:3']);
    const third = await workos.events.listEvents({ events: ['permission.created'], after: second.listMetadata.after ?? '' });
    expect(third.data.map((event) => (event.data as { slug: string }).slug)).toEqual(['p:4']);
    const caughtUp = await workos.events.listEvents({ events: ['permission.created'], after: third.listMetadata.after ?? '' });
    expect(caughtUp).toMatchObject({ data: [], listMetadata: { after: null } });
    // Events recorded later appear after the same cursor.
    await workos.authorization.createPermission({ slug: 'p:late', name: 'Late' });
    const later = await workos.events.listEvents({ events: ['permission.created'], after: third.listMetadata.after ?? '' });
    expect(later.data.map((event) => (event.data as { slug: string }).slug)).toEqual(['p:late']);
  });

  it('defaults to 10 per page, and reads events[] and repeated events too', async () => {
    await makeEvents(12);
    expect((await workos.events.listEvents({ events: ['permission.created'] })).data).toHaveLength(10);
    const get = async (query: string) => {
      const response = await fetch(`${kit.url}/events?${query}`, { headers: { authorization: `Bearer ${kit.apiKey}` } });
      return (await response.json()) as { data: Array<{ event: string }> };
    };
    kit.setMembershipStatus('om_alice', 'inactive');
    expect((await get('events[]=organization_membership.updated&limit=100')).data.map((event) => event.event)).toEqual(['organization_membership.updated']);
    expect((await get('events=organization_membership.updated&events=role.updated&limit=100')).data).toHaveLength(1);
    expect((await get('limit=100')).data).toHaveLength(13);
  });

  it('filters by organization and by time range', async () => {
    kit.setMembershipStatus('om_alice', 'inactive');
    kit.setMembershipStatus('om_carol', 'inactive');
    const events: ['organization_membership.updated'] = ['organization_membership.updated'];
    const acme = await workos.events.listEvents({ events, organizationId: 'org_acme' });
    expect(acme.data.map((event) => (event.data as { id: string }).id)).toEqual(['om_alice']);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await workos.events.listEvents({ events, rangeStart: future })).data).toEqual([]);
    const past = new Date(Date.now() - 60_000).toISOString();
    expect((await workos.events.listEvents({ events, rangeStart: past, rangeEnd: future })).data).toHaveLength(2);
    expect((await workos.events.listEvents({ events, rangeEnd: past })).data).toEqual([]);
  });

  it('answers 422 for after with range_start, and for a bad limit', async () => {
    kit.setMembershipStatus('om_alice', 'inactive');
    const [event] = kit.events();
    await expect(
      workos.events.listEvents({ events: ['organization_membership.updated'], after: event?.id ?? '', rangeStart: new Date(0).toISOString() }),
    ).rejects.toBeInstanceOf(UnprocessableEntityException);
    await expect(workos.events.listEvents({ events: ['organization_membership.updated'], limit: 101 })).rejects.toBeInstanceOf(
      UnprocessableEntityException,
    );
  });

  it('is an endpoint for faults and call counters (listEvents)', async () => {
    kit.inject('listEvents', { status: 500, times: 1 });
    await expect(workos.events.listEvents({ events: ['session.revoked'] })).rejects.toMatchObject({ status: 500 });
    await workos.events.listEvents({ events: ['session.revoked'] });
    expect(kit.calls('listEvents')).toBe(2);
  });
});

describe('sessions', () => {
  it('revokes through the SDK (POST /user_management/sessions/revoke) a session the kit minted; 404 for an unknown one', async () => {
    kit.mintToken({ user: 'user_carol', organization: 'org_globex', sessionId: 'session_carol' });
    await workos.userManagement.revokeSession({ sessionId: 'session_carol' });
    expect(kit.events()).toMatchObject([
      { event: 'session.revoked', data: { object: 'session', id: 'session_carol', user_id: 'user_carol', organization_id: 'org_globex', status: 'revoked' } },
    ]);
    await expect(workos.userManagement.revokeSession({ sessionId: 'session_unknown' })).rejects.toBeInstanceOf(NotFoundException);
    expect(kit.calls('revokeSession')).toBe(2);
  });

  it('kit.revokeSession emits the event for an unknown sid with what it is told', async () => {
    const event = kit.revokeSession('session_elsewhere', { user: 'user_alice' });
    expect(event).toMatchObject({ object: 'event', event: 'session.revoked', data: { id: 'session_elsewhere', user_id: 'user_alice', status: 'revoked' } });
    expect(event.data).not.toHaveProperty('organization_id');
    const { data } = await workos.events.listEvents({ events: ['session.revoked'] });
    expect(data[0]?.data).toMatchObject({ id: 'session_elsewhere', userId: 'user_alice', status: 'revoked' });
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('webhooks', () => {
  const secret = 'whsec_testkit';
  let receiver: Server;
  let url: string;
  let received: Received[];
  /** Status for each next request (200 once the list is used up). */
  let answers: number[];

  beforeEach(async () => {
    received = [];
    answers = [];
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.statusCode = answers.shift() ?? 200;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/workos`;
  });
  afterEach(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('posts each event as sent, signed so that webhooks.constructEvent accepts it', async () => {
    kit.setMembershipStatus('om_alice', 'inactive');
    kit.mintToken({ user: 'user_alice', organization: 'org_acme', sessionId: 'session_a' });
    kit.revokeSession('session_a');

    expect(await kit.deliverWebhooks({ url, secret })).toEqual({ delivered: 2, statuses: [200, 200] });
    expect(received.map((request) => request.body)).toEqual(kit.events().map((event) => JSON.stringify(event)));
    expect(received[0]?.headers['content-type']).toBe('application/json');
    expect(received[0]?.headers['workos-signature']).toMatch(/^t=\d+, v1=[0-9a-f]{64}$/);

    const [first, second] = received;
    const membership = await workos.webhooks.constructEvent({ payload: first?.body ?? '', sigHeader: String(first?.headers['workos-signature']), secret });
    expect(membership).toMatchObject({ event: 'organization_membership.updated', data: { id: 'om_alice', status: 'inactive' } });
    const revoked = await workos.webhooks.constructEvent({ payload: second?.body ?? '', sigHeader: String(second?.headers['workos-signature']), secret });
    expect(revoked).toMatchObject({ id: kit.events()[1]?.id, event: 'session.revoked', data: { id: 'session_a', userId: 'user_alice' } });

    await expect(
      workos.webhooks.constructEvent({ payload: first?.body ?? '', sigHeader: String(first?.headers['workos-signature']), secret: 'whsec_other' }),
    ).rejects.toBeInstanceOf(SignatureVerificationException);
  });

  it('signs with a given timestamp, which constructEvent refuses once outside its tolerance', async () => {
    kit.setMembershipStatus('om_alice', 'inactive');
    await kit.deliverWebhooks({ url, secret, timestamp: Date.now() - 10 * 60_000 });
    const [request] = received;
    expect(request?.headers['workos-signature']).toMatch(/^t=\d+, /);
    await expect(
      workos.webhooks.constructEvent({ payload: request?.body ?? '', sigHeader: String(request?.headers['workos-signature']), secret }),
    ).rejects.toBeInstanceOf(SignatureVerificationException);
  });

  it('keeps an event answered non-2xx pending and sends it again on the next call; acknowledged ones are not resent', async () => {
    kit.setMembershipStatus('om_alice', 'inactive');
    kit.setMembershipStatus('om_carol', 'inactive');
    kit.setMembershipStatus('om_alice', 'active');
    const ids = kit.events().map((event) => event.id);
    answers = [200, 500, 200];
    expect(await kit.deliverWebhooks({ url, secret })).toEqual({ delivered: 2, statuses: [200, 500, 200] });

    kit.setMembershipStatus('om_carol', 'active');
    expect(await kit.deliverWebhooks({ url, secret })).toEqual({ delivered: 2, statuses: [200, 200] });
    const idOf = (request: Received | undefined) => (JSON.parse(request?.body ?? '{}') as { id?: string }).id;
    expect(received.slice(3).map(idOf)).toEqual([ids[1], kit.events()[3]?.id]);

    expect(await kit.deliverWebhooks({ url, secret })).toEqual({ delivered: 0, statuses: [] });
  });

  it('counts no answer as status 0 and keeps the event pending', async () => {
    kit.setMembershipStatus('om_alice', 'inactive');
    const closed = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    expect(await kit.deliverWebhooks({ url: closed, secret })).toEqual({ delivered: 0, statuses: [0] });
    receiver.listen(0, '127.0.0.1'); // for afterEach
    await expect(kit.deliverWebhooks({ url: 'ftp://example.test/', secret })).rejects.toBeInstanceOf(TypeError);
    await expect(kit.deliverWebhooks({ url, secret: '' })).rejects.toBeInstanceOf(TypeError);
  });
});
