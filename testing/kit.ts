import { WorkOS, type WorkOSOptions } from '@workos-inc/node';
import { EventLog, type WorkOSEventWire } from './events.js';
import { CallCounters, FaultRegistry, type Fault } from './faults.js';
import { SigningKeys } from './keys.js';
import { FgaModel, type MembershipStatus } from './model.js';
import { applySeed, type TestKitSeed } from './seed.js';
import type { EndpointName } from './endpoints.js';
import { startServer } from './server.js';
import { SessionRegistry } from './sessions.js';
import { mintAccessToken, mintMachineAccessToken, type MintMachineTokenOptions, type MintTokenOptions } from './tokens.js';
import { WebhookSender, type DeliverWebhooksOptions, type WebhookDelivery } from './webhooks.js';
import { UnknownSlugLog, type UnknownSlug } from './unknown-slugs.js';

export interface TestKitOptions {
  /** Default 0: a random free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  seed?: TestKitSeed;
  /** Default 'client_testkit'. */
  clientId?: string;
  /** Default 'sk_test_testkit'. */
  apiKey?: string;
}

export interface TestKit {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  port: number;
  clientId: string;
  apiKey: string;
  /** `${url}/user_management/${clientId}` (AuthKit's newer issuer form, on the kit's base URL). */
  issuer: string;
  /** `${url}/sso/jwks/${clientId}` */
  jwksUrl: string;
  /**
   * The kit's AuthKit domain, `${url}/authkit`: the `iss` of machine tokens, and what
   * `machines: { issuer: kit.machineIssuer }` takes. Its JWKS is at `${machineIssuer}/oauth2/jwks`.
   */
  machineIssuer: string;
  /** `${machineIssuer}/oauth2/jwks` (the default `machines.jwksUrl` for that issuer). */
  machineJwksUrl: string;
  /** A WorkOS SDK client pointed at the kit. */
  workos(options?: Partial<WorkOSOptions>): WorkOS;
  /**
   * An AuthKit-shaped RS256 access token, signed with the current key. Synchronous. Throws for a user,
   * organization or membership the model does not hold, or a membership of another user or
   * organization, unless `unchecked: true` (for tests that mint a stranger on purpose).
   */
  mintToken(options: MintTokenOptions): string;
  /**
   * A WorkOS Connect client-credentials (M2M) token, signed RS256 with the AuthKit domain's own key
   * (not the user tokens' key): `iss` = machineIssuer, `sub` = clientId, `org_id`, `jti`, `iat`,
   * `exp`, and `permissions` when given; no `sid`. Synchronous. Throws for an organization the model
   * does not hold, unless `unchecked: true`.
   */
  mintMachineToken(options: MintMachineTokenOptions): string;
  /**
   * The permission slugs and resource type slugs that checks named and the model does not hold, once
   * each, in the order first seen: `expect(kit.unknownSlugs()).toEqual([])` proves a test's guards
   * name only what the seed defines.
   */
  unknownSlugs(): UnknownSlug[];
  /** Signs any payload with the current key; header fields override the defaults (`{ kid: undefined }` drops the kid). */
  signToken(payload: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** Makes a new current signing key and returns its kid; the JWKS keeps the previous keys unless keepPrevious is false. */
  rotateKeys(options?: { keepPrevious?: boolean }): string;
  /** Adds to the model at run time; same shape and validation as the initial seed. Records the events WorkOS would send. */
  seed(fragment: TestKitSeed): void;
  /** Records `organization_membership.updated`. */
  setMembershipStatus(membershipId: string, status: MembershipStatus): void;
  /** Records `group.member_added` when the membership was not in the group yet. */
  addGroupMember(groupId: string, membershipId: string): void;
  /** Records `group.member_removed` when the membership was in the group. */
  removeGroupMember(groupId: string, membershipId: string): void;
  /**
   * Revokes a session (the `sid` of the kit's tokens) and records `session.revoked`. The session's user and
   * organization come from the tokens the kit signed with that sid, else from `known`.
   */
  revokeSession(sessionId: string, known?: { user?: string; organization?: string }): WorkOSEventWire;
  /** Copies of the events recorded since start (not for the initial seed), oldest first, as `GET /events` serves them. */
  events(): WorkOSEventWire[];
  /**
   * POSTs every event the url has not acknowledged yet (2xx), oldest first, one at a time, signed like WorkOS
   * (`WorkOS-Signature: t=<ms>, v1=<hex HMAC-SHA256>`). An event answered otherwise is sent again on the next call.
   */
  deliverWebhooks(options: DeliverWebhooksOptions): Promise<WebhookDelivery>;
  /** Makes matching calls fail or stall; returns a function that removes the fault. */
  inject(endpoint: EndpointName | '*', fault: Fault): () => void;
  clearFaults(): void;
  /** Calls served (faulted ones included) for an endpoint since start or resetCalls(); all endpoints when omitted. */
  calls(endpoint?: EndpointName): number;
  resetCalls(): void;
  /** Stops the server and ends open connections. Idempotent. */
  close(): Promise<void>;
}

export async function createTestKit(options: TestKitOptions = {}): Promise<TestKit> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? 'client_testkit';
  const apiKey = options.apiKey ?? 'sk_test_testkit';
  const model = new FgaModel();
  if (options.seed) applySeed(model, options.seed);
  const events = new EventLog(model);
  const sessions = new SessionRegistry();
  const webhooks = new WebhookSender(() => events.all());
  const keys = new SigningKeys();
  const machineKeys = new SigningKeys();
  // Every token the kit signs names its session, so revokeSession can say whose session it was.
  const signer = {
    sign: (payload: Record<string, unknown>, header?: Record<string, unknown>) => {
      sessions.remember(payload);
      return keys.sign(payload, header);
    },
  };
  const faults = new FaultRegistry<EndpointName>();
  const counters = new CallCounters<EndpointName>();
  const unknownSlugs = new UnknownSlugLog();
  const server = await startServer({ host, port: options.port ?? 0, apiKey, clientId, model, events, sessions, keys, machineKeys, faults, counters, unknownSlugs });

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  const issuer = `${url}/user_management/${clientId}`;
  const machineIssuer = `${url}/authkit`;
  return {
    url,
    port: server.port,
    clientId,
    apiKey,
    issuer,
    jwksUrl: `${url}/sso/jwks/${clientId}`,
    machineIssuer,
    machineJwksUrl: `${machineIssuer}/oauth2/jwks`,
    workos: (workosOptions = {}) => new WorkOS(apiKey, { apiHostname: host, port: server.port, https: false, clientId, ...workosOptions }),
    mintToken: (mintOptions) => mintAccessToken(signer, model, issuer, mintOptions),
    mintMachineToken: (mintOptions) => mintMachineAccessToken(machineKeys, model, machineIssuer, mintOptions),
    unknownSlugs: () => unknownSlugs.all(),
    signToken: (payload, header) => signer.sign(payload, header),
    rotateKeys: ({ keepPrevious = true } = {}) => keys.rotate(keepPrevious),
    seed: (fragment) => {
      for (const change of applySeed(model, fragment)) events.created(change);
    },
    setMembershipStatus: (membershipId, status) => {
      events.membership('updated', model.setMembershipStatus(membershipId, status));
    },
    addGroupMember: (groupId, membershipId) => {
      if (model.addGroupMember(groupId, membershipId)) events.groupMember('added', model.getGroup(groupId), membershipId);
    },
    removeGroupMember: (groupId, membershipId) => {
      if (model.removeGroupMember(groupId, membershipId)) events.groupMember('removed', model.getGroup(groupId), membershipId);
    },
    revokeSession: (sessionId, known) => {
      if (typeof sessionId !== 'string' || sessionId === '') throw new TypeError('revokeSession: sessionId must be a non-empty string.');
      return structuredClone(events.sessionRevoked(sessions.revoke(sessionId, known)));
    },
    events: () => structuredClone([...events.all()]),
    deliverWebhooks: (deliverOptions) => webhooks.deliver(deliverOptions),
    inject: (endpoint, fault) => faults.inject(endpoint, fault),
    clearFaults: () => faults.clear(),
    calls: (endpoint) => counters.count(endpoint),
    resetCalls: () => counters.reset(),
    close: () => server.close(),
  };
}
