import { createTestKit, demoSeed } from '../testing/index.js';
import { frameworkOf, startExampleServer } from './server.js';

/**
 * `npm start`: the whole example offline. Starts the test kit with the demo model, points the
 * example at it through the same environment variables real WorkOS would use, and prints curl
 * lines with freshly minted tokens. `npm start -- --koa` (or `--fastify`, `--hono`) runs that app instead.
 */
const framework = frameworkOf(process.argv);
const kit = await createTestKit({ seed: demoSeed, port: Number(process.env.KIT_PORT ?? 0) });
Object.assign(process.env, {
  WORKOS_API_KEY: kit.apiKey,
  WORKOS_CLIENT_ID: kit.clientId,
  WORKOS_API_HOSTNAME: '127.0.0.1',
  WORKOS_API_PORT: String(kit.port),
  WORKOS_API_HTTPS: 'false',
  FGA_GUARD_LOG_DECISIONS: '1',
});
const { server, url } = await startExampleServer(framework, Number(process.env.PORT ?? 3000));

const hour = 3600;
const token = (user: string) => kit.mintToken({ user, organization: 'org_acme', expiresIn: hour });
const examples = [
  { expect: 200, why: 'dave is an org admin: billing:view is in his token (no API call)', method: 'GET', path: '/billing', user: 'user_dave' },
  { expect: 200, why: 'alice is workspace-admin on ws-1; p-1 is in ws-1, so FGA grants project:edit', method: 'PATCH', path: '/projects/p-1', user: 'user_alice' },
  { expect: 403, why: 'bob is a member with no role on ws-1', method: 'PATCH', path: '/projects/p-1', user: 'user_bob' },
  { expect: 200, why: 'the projects of ws-1 bob may view: only p-2 (filterAccessible)', method: 'GET', path: '/projects?workspace=ws-1', user: 'user_bob' },
  { expect: 200, why: 'bob holds one of project:view / project:edit on p-2 (requireAnyPermission)', method: 'GET', path: '/projects/p-2', user: 'user_bob' },
  { expect: 401, why: 'no token', method: 'GET', path: '/me' },
];

console.log(`fga-guard ${framework} example on ${url} — WorkOS test kit on ${kit.url} (offline)\n`);
for (const example of examples) {
  const auth = example.user ? ` -H 'Authorization: Bearer ${token(example.user)}'` : '';
  console.log(`# ${example.expect}: ${example.why}`);
  console.log(`curl -i -X ${example.method} '${url}${example.path}'${auth}\n`);
}
console.log('Tokens last one hour. Ctrl-C to stop.');

const stop = () => {
  server.close();
  void kit.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
