import { EdgeVM } from '@edge-runtime/vm';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKit, type TestKit } from '../testing/index.js';
import { testSeed } from './support/model.js';

/**
 * The core and the Hono adapter on a web-standard runtime: Vercel's edge runtime in a VM (no
 * `process`, no `require`, no Node module; fetch and WebCrypto only), with the WorkOS SDK's worker
 * build, against the test kit on loopback. What runs in the VM is one bundle of src/index.ts and
 * adapters/hono.ts with everything they import (jose, lru-cache, hono, the SDK), built for a
 * platform without Node built-ins: an import of one fails the build.
 */
const ENTRY = `
export { createAuthorizer } from './src/index.ts';
export * as honoGuard from './adapters/hono.ts';
export { Hono } from 'hono';
export { WorkOS } from '@workos-inc/node';
`;

async function edgeBundle(): Promise<string> {
  const result = await build({
    stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'edge-entry.ts' },
    bundle: true,
    format: 'iife',
    globalName: 'fgaGuardEdge',
    platform: 'neutral',
    // The export conditions edge runtimes resolve with: the SDK's and jose's web builds.
    conditions: ['edge-light', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** The app inside the VM: one guarded route, and `handle` to send it a request. */
function appSource(kit: TestKit): string {
  const config = JSON.stringify({ apiKey: kit.apiKey, clientId: kit.clientId, port: kit.port });
  return `
    const { createAuthorizer, honoGuard, Hono, WorkOS } = fgaGuardEdge;
    const config = ${config};
    const workos = new WorkOS(config.apiKey, { clientId: config.clientId, apiHostname: '127.0.0.1', port: config.port, https: false });
    const authz = createAuthorizer({ workos });
    const app = new Hono();
    app.get(
      '/projects/:id',
      honoGuard.requirePermission(authz, 'project:edit', { resource: (c) => ({ type: 'project', externalId: c.req.param('id') }) }),
      (c) => c.json({ user: c.get('auth').userId, source: c.get('authDecision').source }),
    );
    globalThis.handle = async (path, authorization) => {
      const res = await app.fetch(new Request('http://edge.test' + path, { headers: authorization ? { authorization } : {} }));
      return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() };
    };
  `;
}

interface EdgeAnswer {
  status: number;
  challenge: string | null;
  body: Record<string, unknown>;
}

describe('the core and the Hono adapter on a web-standard runtime (@edge-runtime/vm)', () => {
  let kit: TestKit;
  let vm: EdgeVM;
  const handle = (path: string, authorization?: string): Promise<EdgeAnswer> =>
    vm.evaluate(`handle(${JSON.stringify(path)}, ${JSON.stringify(authorization ?? null)})`);

  beforeAll(async () => {
    kit = await createTestKit({ seed: testSeed });
    vm = new EdgeVM();
    vm.evaluate(await edgeBundle());
    vm.evaluate(appSource(kit));
  }, 60_000);
  afterAll(() => kit.close());

  it('is a runtime without Node: no process, require, Buffer or setImmediate', () => {
    expect(vm.evaluate('[typeof process, typeof require, typeof Buffer, typeof setImmediate].join()')).toBe('undefined,undefined,undefined,undefined');
  });

  it('grants through WorkOS FGA', async () => {
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    const answer = await handle('/projects/p-1', `Bearer ${token}`);
    expect(answer).toEqual({ status: 200, challenge: null, body: { user: 'user_alice', source: 'api' } });
    expect(kit.calls('check')).toBe(1);
    const again = await handle('/projects/p-1', `Bearer ${token}`);
    expect(again.body.source).toBe('cache');
  });

  it('denies with 403 and the challenge', async () => {
    const answer = await handle('/projects/p-1', `Bearer ${kit.mintToken({ user: 'user_bob', organization: 'org_acme' })}`);
    expect(answer.status).toBe(403);
    expect(answer.challenge).toMatch(/^Bearer realm="api", error="insufficient_scope"/);
    expect(answer.body).toEqual({ error: 'forbidden', message: 'Permission denied', permission: 'project:edit' });
  });

  it('answers 401 without a token, and for a token that does not verify', async () => {
    const missing = await handle('/projects/p-1');
    expect(missing).toEqual({ status: 401, challenge: 'Bearer realm="api"', body: { error: 'unauthorized', message: 'Authentication required' } });
    const expired = kit.mintToken({ user: 'user_alice', organization: 'org_acme', expiresIn: -60 });
    const invalid = await handle('/projects/p-1', `Bearer ${expired}`);
    expect(invalid.status).toBe(401);
    expect(invalid.body.error).toBe('invalid_token');
  });
});
