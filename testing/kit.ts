import { WorkOS, type WorkOSOptions } from '@workos-inc/node';
import { CallCounters, FaultRegistry, type Fault } from './faults.js';
import { SigningKeys } from './keys.js';
import { FgaModel, type MembershipStatus } from './model.js';
import { applySeed, type TestKitSeed } from './seed.js';
import type { EndpointName } from './endpoints.js';
import { startServer } from './server.js';
import { mintAccessToken, type MintTokenOptions } from './tokens.js';

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
  /** A WorkOS SDK client pointed at the kit. */
  workos(options?: Partial<WorkOSOptions>): WorkOS;
  /** An AuthKit-shaped RS256 access token, signed with the current key. Synchronous. */
  mintToken(options: MintTokenOptions): string;
  /** Signs any payload with the current key; header fields override the defaults (`{ kid: undefined }` drops the kid). */
  signToken(payload: Record<string, unknown>, header?: Record<string, unknown>): string;
  /** Makes a new current signing key and returns its kid; the JWKS keeps the previous keys unless keepPrevious is false. */
  rotateKeys(options?: { keepPrevious?: boolean }): string;
  /** Adds to the model at run time; same shape and validation as the initial seed. */
  seed(fragment: TestKitSeed): void;
  setMembershipStatus(membershipId: string, status: MembershipStatus): void;
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
  const keys = new SigningKeys();
  const faults = new FaultRegistry<EndpointName>();
  const counters = new CallCounters<EndpointName>();
  const server = await startServer({ host, port: options.port ?? 0, apiKey, clientId, model, keys, faults, counters });

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${server.port}`;
  const issuer = `${url}/user_management/${clientId}`;
  return {
    url,
    port: server.port,
    clientId,
    apiKey,
    issuer,
    jwksUrl: `${url}/sso/jwks/${clientId}`,
    workos: (workosOptions = {}) => new WorkOS(apiKey, { apiHostname: host, port: server.port, https: false, clientId, ...workosOptions }),
    mintToken: (mintOptions) => mintAccessToken(keys, model, issuer, mintOptions),
    signToken: (payload, header) => keys.sign(payload, header),
    rotateKeys: ({ keepPrevious = true } = {}) => keys.rotate(keepPrevious),
    seed: (fragment) => applySeed(model, fragment),
    setMembershipStatus: (membershipId, status) => {
      model.setMembershipStatus(membershipId, status);
    },
    inject: (endpoint, fault) => faults.inject(endpoint, fault),
    clearFaults: () => faults.clear(),
    calls: (endpoint) => counters.count(endpoint),
    resetCalls: () => counters.reset(),
    close: () => server.close(),
  };
}
