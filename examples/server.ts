import type { AddressInfo } from 'node:net';
import { authorizerFromEnv } from './authorizer.js';
import { createExpressApp } from './express-app.js';
import { createKoaApp } from './koa-app.js';

/**
 * Runs an example app against whatever WorkOS the environment names (real WorkOS by default):
 *   WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... npx tsx examples/server.ts [--koa]
 */
export function startExampleServer(framework: 'express' | 'koa', port: number) {
  const authz = authorizerFromEnv();
  const app = framework === 'koa' ? createKoaApp(authz) : createExpressApp(authz);
  const server = app.listen(port, '127.0.0.1');
  return new Promise<{ server: typeof server; url: string }>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const framework = process.argv.includes('--koa') ? 'koa' : 'express';
  const { url } = await startExampleServer(framework, Number(process.env.PORT ?? 3000));
  console.log(`${framework} example listening on ${url}`);
}
