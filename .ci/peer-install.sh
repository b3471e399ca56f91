#!/usr/bin/env bash
# A new user's first install: a project that already has the WorkOS SDK (12 on Node 22, 11 on
# Node 20) and express, then `npm install <the packed tarball>` with no flags. An ERESOLVE on the
# peer range fails this step; then a decision is made through the installed package.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$scratch/$(cd "$root" && npm pack --silent --pack-destination "$scratch" | tail -n 1)"
npm_cli="$(readlink -f "$(command -v npm)")"

install_into() { # <node major> <sdk major>
  local node_major=$1 sdk_major=$2 project="$scratch/sdk$2-node$1"
  local node=(node)
  [ "$node_major" = "$(node -p 'process.versions.node.split(".")[0]')" ] || node=(npx -y "node@$node_major")
  mkdir -p "$project" && cd "$project"
  "${node[@]}" "$npm_cli" init -y >/dev/null
  "${node[@]}" "$npm_cli" install --no-audit --no-fund --loglevel=error "@workos-inc/node@$sdk_major" express@5 >/dev/null 2>&1
  # No --force, no --legacy-peer-deps: exactly what a user types.
  if ! "${node[@]}" "$npm_cli" install --no-audit --no-fund --loglevel=error "$tarball" >install.log 2>&1; then
    cat install.log
    echo "npm install fga-guard failed next to @workos-inc/node@$sdk_major on Node $node_major"
    exit 1
  fi
  "${node[@]}" --input-type=module -e "
    const { createAuthorizer } = await import('fga-guard');
    const { createTestKit, demoSeed } = await import('fga-guard/testing');
    const sdk = JSON.parse((await import('node:fs')).readFileSync('node_modules/@workos-inc/node/package.json', 'utf8')).version;
    const kit = await createTestKit({ seed: demoSeed });
    const authz = createAuthorizer({ workos: kit.workos(), clientId: kit.clientId });
    const principal = await authz.verify(kit.mintToken({ user: 'user_alice', organization: 'org_acme' }));
    const decision = await authz.check(principal, 'project:edit', { type: 'project', externalId: 'p-1' });
    await kit.close();
    if (!decision.allowed) throw new Error('check was not allowed');
    console.log('installed next to @workos-inc/node ' + sdk + ' on Node ' + process.versions.node + ': ok');
  "
}

install_into 22 12
install_into 20 11
