import { createAdaptorServer } from '@hono/node-server';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizerFromEnv } from './authorizer.js';
import { createExpressApp } from './express-app.js';
import { createFastifyApp } from './fastify-app.js';
import { createHonoApp } from './hono-app.js';
import { createKoaApp } from './koa-app.js';

export type Framework = 'express' | 'koa' | 'fastify' | 'hono';

/** `--koa`, `--fastify` or `--hono` among the arguments; Express otherwise. */
export function frameworkOf(args: readonly string[]): Framework {
  for (const framework of ['koa', 'fastify', 'hono'] as const) if (args.includes(`--${framework}`)) return framework;
  return 'express';
}

/** The example app on a Node HTTP server (Hono's through @hono/node-server), not yet listening. */
async function serverFor(framework: Framework): Promise<Server> {
  const authz = authorizerFromEnv();
  if (framework === 'fastify') {
    const app = createFastifyApp(authz);
    await app.ready();
    return app.server;
  }
  if (framework === 'hono') return createAdaptorServer({ fetch: createHonoApp(authz).fetch }) as Server;
  return createServer(framework === 'koa' ? createKoaApp(authz).callback() : createExpressApp(authz));
}

/**
 * Runs an example app against whatever WorkOS the environment names (real WorkOS by default):
 *   WORKOS_API_KEY=sk_... WORKOS_CLIENT_ID=client_... npx tsx examples/server.ts [--koa | --fastify | --hono]
 */
export async function startExampleServer(framework: Framework, port: number) {
  const server = (await serverFor(framework)).listen(port, '127.0.0.1');
  return new Promise<{ server: Server; url: string }>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }));
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const framework = frameworkOf(process.argv);
  const { url } = await startExampleServer(framework, Number(process.env.PORT ?? 3000));
  console.log(`${framework} example listening on ${url}`);
}
