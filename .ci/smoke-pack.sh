#!/usr/bin/env bash
# Installs the packed tarball into a scratch project and loads every subpath with import and require,
# the way a user (and the acceptance tests) will.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$scratch" | tail -n 1)"
cd "$scratch"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "./$tarball" @workos-inc/node@^11 express@^5 koa@^3 >/dev/null 2>&1
node --input-type=module -e "
  const core = await import('fga-guard');
  const express = await import('fga-guard/express');
  const koa = await import('fga-guard/koa');
  const testing = await import('fga-guard/testing');
  for (const [name, fn] of [['createAuthorizer', core.createAuthorizer], ['express.requirePermission', express.requirePermission], ['koa.requireAuth', koa.requireAuth], ['createTestKit', testing.createTestKit]]) {
    if (typeof fn !== 'function') throw new Error('ESM export missing: ' + name);
  }
  const kit = await testing.createTestKit({ seed: testing.demoSeed });
  const authz = core.createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
  const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
  const decision = await authz.check(principal, 'project:edit', { type: 'project', externalId: 'p-1' });
  await kit.close();
  if (!decision.allowed) throw new Error('packed ESM check was not allowed');
  console.log('ESM ok:', decision.source);
"
node -e "
  const core = require('fga-guard');
  const express = require('fga-guard/express');
  const koa = require('fga-guard/koa');
  const testing = require('fga-guard/testing');
  for (const fn of [core.createAuthorizer, express.requireAuth, koa.requirePermission, testing.createTestKit]) {
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
echo "bin ok"
