#!/usr/bin/env bash
# Adds the packed tarball to scratch projects that already depend on a WorkOS SDK, the way a user does
# (a plain `npm install`, no --force or --legacy-peer-deps): SDK 11 on Node 20 and SDK 12 on Node 22.
# In each, npm and every check run on that Node: every subpath loads with import and require, a
# request goes through, and a consumer type-checks against the packed .d.ts and that SDK's types.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$scratch/$(cd "$root" && npm pack --silent --pack-destination "$scratch" | tail -n 1)"

# Runs a command with its output kept back unless it fails.
quiet() {
  local log
  log="$(mktemp -p "$scratch")"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "failed: $*" >&2
    return 1
  fi
}

# smoke <SDK major> <Node major>
smoke() (
  sdk="$1"
  if [[ "$(node -p 'process.versions.node.split(".")[0]')" != "$2" ]]; then
    # The registry's Node first on PATH: npm (#!/usr/bin/env node), node and the bin all run on it.
    PATH="$(dirname "$(npx -y "node@$2" -p process.execPath)"):$PATH"
  fi
  mkdir "$scratch/sdk$sdk"
  cd "$scratch/sdk$sdk"
  printf '\n--- a project with @workos-inc/node@%s: node %s, npm %s\n' "$sdk" "$(node --version)" "$(npm --version)"
  quiet npm init -y
  quiet npm install --no-audit --no-fund "@workos-inc/node@^$sdk" express@^5 koa@^3 fastify@^5 hono@^4 redis@^5
  quiet npm install --no-audit --no-fund "$tarball"
  node -e "
    const { version } = require('@workos-inc/node/package.json');
    if (version.split('.')[0] !== '$sdk') throw new Error('@workos-inc/node ' + version + ' is installed, not $sdk');
    console.log('fga-guard installed next to @workos-inc/node', version);
  "
  node --input-type=module -e "
    // @opentelemetry/api is an optional peer, not installed here: the check below runs without it.
    if (await import('@opentelemetry/api').then(() => true, () => false)) throw new Error('@opentelemetry/api is installed: the smoke test no longer proves it optional');
    const core = await import('fga-guard');
    const express = await import('fga-guard/express');
    const koa = await import('fga-guard/koa');
    const fastify = await import('fga-guard/fastify');
    const hono = await import('fga-guard/hono');
    const redis = await import('fga-guard/redis');
    const testing = await import('fga-guard/testing');
    for (const [name, fn] of [['createAuthorizer', core.createAuthorizer], ['express.requirePermission', express.requirePermission], ['koa.requireAuth', koa.requireAuth], ['fastify.requirePermission', fastify.requirePermission], ['hono.requireAllPermissions', hono.requireAllPermissions], ['redis.createRedisStore', redis.createRedisStore], ['createTestKit', testing.createTestKit]]) {
      if (typeof fn !== 'function') throw new Error('ESM export missing: ' + name);
    }
    const kit = await testing.createTestKit({ seed: testing.demoSeed });
    const authz = core.createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    const decision = await authz.check(principal, 'project:edit', { type: 'project', externalId: 'p-1' });
    // A request through each new adapter: Fastify's inject and Hono's app.request.
    const { Hono } = await import('hono');
    const honoApp = new Hono().get('/p', hono.requirePermission(authz, 'project:edit', { resource: { type: 'project', externalId: 'p-1' } }), (c) => c.json({ user: c.get('auth').userId }));
    const fastifyApp = (await import('fastify')).default();
    fastifyApp.get('/p', { preHandler: fastify.requirePermission(authz, 'project:edit', { resource: { type: 'project', externalId: 'p-1' } }) }, async (req) => ({ user: req.auth.userId }));
    const authorization = 'Bearer ' + kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    const viaHono = await honoApp.request('/p', { headers: { authorization } });
    const viaFastify = await fastifyApp.inject({ url: '/p', headers: { authorization } });
    await fastifyApp.close();
    await kit.close();
    if (!decision.allowed) throw new Error('packed ESM check was not allowed');
    if (viaHono.status !== 200 || viaFastify.statusCode !== 200) throw new Error('hono ' + viaHono.status + ', fastify ' + viaFastify.statusCode);
    console.log('ESM ok:', decision.source, '(express, koa, fastify, hono load; fastify and hono answer; no @opentelemetry/api)');
  "
  node -e "
    const core = require('fga-guard');
    const express = require('fga-guard/express');
    const koa = require('fga-guard/koa');
    const fastify = require('fga-guard/fastify');
    const hono = require('fga-guard/hono');
    const redis = require('fga-guard/redis');
    const testing = require('fga-guard/testing');
    for (const fn of [core.createAuthorizer, express.requireAuth, koa.requirePermission, fastify.requireAuth, hono.requireAnyPermission, redis.createRedisStore, testing.createTestKit]) {
      if (typeof fn !== 'function') throw new Error('CJS export missing');
    }
    if (!(new core.ForbiddenError('api', 'x') instanceof core.FgaGuardError)) throw new Error('error classes broken');
    console.log('CJS ok');
  "
  # Both builds in one process (an ESM app whose dependency requires the CJS build): guards from either
  # copy, with an authorizer from either, set req.auth where the app can read it.
  node --input-type=module -e "
    import { createRequire } from 'node:module';
    const require = createRequire(process.cwd() + '/');
    const core = await import('fga-guard');
    const esmGuard = await import('fga-guard/express');
    const cjsGuard = require('fga-guard/express');
    const cjsCore = require('fga-guard');
    const testing = await import('fga-guard/testing');
    const express = (await import('express')).default;
    const kit = await testing.createTestKit({ seed: testing.demoSeed });
    const esmAuthz = core.createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const cjsAuthz = cjsCore.createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const app = express();
    const reply = (req, res) => res.json({ user: req.auth?.userId, source: req.authDecision?.source });
    app.get('/esm', esmGuard.requirePermission(esmAuthz, 'project:edit', { resource: { type: 'project', externalId: 'p-1' } }), reply);
    app.get('/cjs', cjsGuard.requirePermission(cjsAuthz, 'project:edit', { resource: { type: 'project', externalId: 'p-1' } }), reply);
    app.get('/mixed', cjsGuard.requireAuth(esmAuthz), reply);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const token = kit.mintToken({ user: 'user_alice', organization: 'org_acme' });
    for (const path of ['/esm', '/cjs', '/mixed', '/esm', '/cjs', '/mixed']) {
      const res = await fetch('http://127.0.0.1:' + server.address().port + path, { headers: { authorization: 'Bearer ' + token } });
      const body = await res.json();
      if (res.status !== 200 || body.user !== 'user_alice') throw new Error(path + ': ' + res.status + ' ' + JSON.stringify(body));
    }
    server.close();
    await kit.close();
    console.log('ESM + CJS in one process ok');
  "
  npx --no-install fga-guard-testkit --help >/dev/null
  npx --no-install fga-guard --help >/dev/null
  echo "bin ok"
  cp "$root"/.ci/consumer/* .
  ROOT="$root" node -e "
    const compilerOptions = {
      module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', lib: ['ES2023', 'DOM'], strict: true,
      noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [process.env.ROOT + '/node_modules/@types'],
    };
    require('fs').writeFileSync('tsconfig.json', JSON.stringify({ compilerOptions, files: ['esm.mts', 'cjs.cts'] }));
  "
  node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json
  echo "types ok (import and require)"
)

smoke 11 20
smoke 12 22
