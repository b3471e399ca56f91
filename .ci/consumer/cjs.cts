// The same as esm.mts through the require condition (the .d.cts files).
import { WorkOS } from '@workos-inc/node';
import { createAuthorizer, type Authorizer } from 'fga-guard';
import { createTestKit, type TestKit } from 'fga-guard/testing';

export async function authorizerOnKit(): Promise<[Authorizer, TestKit]> {
  const kit = await createTestKit();
  const client: WorkOS = kit.workos({ maxRetries: 0 });
  return [createAuthorizer({ workos: client, clientId: kit.clientId }), kit];
}
