import { WorkOS } from '@workos-inc/node';
import { createAuthorizer, type Authorizer } from '../src/index.js';

/**
 * The example's only WorkOS wiring. Against real WorkOS set WORKOS_API_KEY and WORKOS_CLIENT_ID;
 * `npm start` also sets WORKOS_API_HOSTNAME / WORKOS_API_PORT / WORKOS_API_HTTPS=false to point at the test kit.
 */
export function authorizerFromEnv(env: NodeJS.ProcessEnv = process.env): Authorizer {
  const workos = new WorkOS(env.WORKOS_API_KEY, {
    clientId: env.WORKOS_CLIENT_ID,
    apiHostname: env.WORKOS_API_HOSTNAME,
    port: env.WORKOS_API_PORT ? Number(env.WORKOS_API_PORT) : undefined,
    https: env.WORKOS_API_HTTPS !== 'false',
  });
  return createAuthorizer({
    workos,
    onDecision: env.FGA_GUARD_LOG_DECISIONS
      ? (d) => console.log(`[fga-guard] ${d.allowed ? 'allow' : 'deny '} ${d.permission} via ${d.source} (${d.latency.toFixed(2)} ms)`)
      : undefined,
  });
}
