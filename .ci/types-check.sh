#!/usr/bin/env bash
# Typechecks the packed package's public types as a user's project sees them: strict, skipLibCheck
# off, module nodenext (an ESM and a CJS file) and bundler, against @types/node 20, 22 and latest,
# with the peers the .d.ts files import and the repo's own TypeScript. One npm install per @types/node
# version. Errors inside other packages' own .d.ts files are counted, not failed on: @types/koa's
# against content-disposition's bundled types, and @workos-inc/node's names from lib DOM (left out
# here so that fga-guard's types are checked without it).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$scratch" | tail -n 1)" || exit 1
typescript="$(node -p "require('$root/node_modules/typescript/package.json').version")"
failed=0

tsconfig() { # module, moduleResolution, files...
  local module="$1" resolution="$2"; shift 2
  local files; files="$(printf '"%s",' "$@")"
  printf '{ "compilerOptions": { "strict": true, "skipLibCheck": false, "noEmit": true, "target": "ES2022",
    "lib": ["ES2022"], "types": ["node"], "module": "%s", "moduleResolution": "%s", "esModuleInterop": true },
    "files": [%s] }\n' "$module" "$resolution" "${files%,}"
}

for types in 20 22 latest; do
  project="$scratch/types-node-$types"
  mkdir "$project" && cd "$project" || exit 1
  npm init -y >/dev/null
  if ! npm install --no-audit --no-fund --silent "$scratch/$tarball" "typescript@$typescript" "@types/node@$types" \
    express @types/express koa @types/koa fastify hono redis@^5 '@workos-inc/node@^11' >install.log 2>&1; then
    cat install.log; exit 1
  fi
  for extension in mts cts ts; do cp "$root/.ci/types-consumer.ts" "consumer.$extension"; done
  tsconfig nodenext nodenext consumer.mts consumer.cts >tsconfig.nodenext.json
  tsconfig preserve bundler consumer.ts >tsconfig.bundler.json
  resolved="$(node -p "require('@types/node/package.json').version")"
  for mode in nodenext bundler; do
    npx --no-install tsc -p "tsconfig.$mode.json" --pretty false >tsc.log 2>&1
    # A diagnostic starts at column 0 with its file, its continuation lines are indented. Ours: any
    # not in another package's files (the consumer, fga-guard's .d.ts, the config).
    ours="$(awk '/^[^ ]/ { ours = !/^node_modules\// || /^node_modules\/fga-guard\// } ours' tsc.log)"
    others="$(grep '^node_modules/' tsc.log | grep -vc '^node_modules/fga-guard/')"
    note=""; [ "$others" -gt 0 ] && note=" ($others error(s) in other packages' own types)"
    if [ -z "$ours" ]; then
      echo "@types/node $resolved, $mode: ok$note"
    else
      echo "@types/node $resolved, $mode: FAILED$note"; printf '%s\n' "$ours" | sed 's/^/  /'; failed=1
    fi
  done
done
exit "$failed"
