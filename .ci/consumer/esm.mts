// Type-checked by .ci/smoke-pack.sh in a scratch project, against the packed .d.ts and the
// @workos-inc/node installed there (11 or 12): the public types that name SDK types take the user's own.
import { WorkOS, type WorkOSOptions } from '@workos-inc/node';
import { createAuthorizer, type Authorizer, type AuthorizerOptions } from 'fga-guard';
import { createTestKit, demoSeed, type TestKit } from 'fga-guard/testing';

const kit: TestKit = await createTestKit({ seed: demoSeed });
const sdkOptions: Partial<WorkOSOptions> = { maxRetries: 0 };
const fromKit: WorkOS = kit.workos(sdkOptions);
const options: AuthorizerOptions = { workos: fromKit, clientId: kit.clientId };

export const authorizers: Authorizer[] = [
  createAuthorizer(options),
  createAuthorizer({ workos: new WorkOS('sk_test_consumer', { clientId: 'client_consumer' }) }),
];
