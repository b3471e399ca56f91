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
npx --no-install fga-guard-testkit --help >/dev/null
echo "bin ok"
