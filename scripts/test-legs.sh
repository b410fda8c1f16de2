#!/usr/bin/env bash
# The test suite twice: on this machine's Node (with the SDK majors package.json pins) and on Node 24 (with the majors
# that need it, scripts/node24-leg.sh). Both legs always run; either one failing fails `npm test`.
# Build, typecheck and lint ran once before this: they do not depend on the Node that runs the tests.
# Usage: bash scripts/test-legs.sh [test files...]   (default: the whole suite)
set -uo pipefail
cd "$(dirname "$0")/.."

seconds() { date +%s; }
# The SDK majors a leg runs with, as its tree installed them (neither package exports its package.json).
sdk_versions() {
  node -e 'const { readFileSync } = require("node:fs");
    const version = (name) => JSON.parse(readFileSync(`node_modules/${name}/package.json`, "utf8")).version;
    console.log(process.argv.slice(1).map((name) => `${name} ${version(name)}`).join(", "));' firebase-admin expo-server-sdk
}
status=0
summary=()
# Each leg's output is kept too: the failure details of a leg that failed are printed again at the very end, where a
# CI log cut to its tail still shows them.
logs=.cache/test-logs
mkdir -p "$logs"
failures=()

start=$(seconds)
echo "== Node $(node --version | cut -c2-) leg ($(sdk_versions)) =="
if [ $# -eq 0 ]; then npm run --silent test:suite; else node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"; fi 2>&1 | tee "$logs/first-leg.log"
rc=${PIPESTATUS[0]}
summary+=("Node $(node --version | cut -c2-) leg: $([ $rc -eq 0 ] && echo passed || echo "FAILED ($rc)") in $(($(seconds) - start)) s")
[ $rc -eq 0 ] || { status=1; failures+=("$logs/first-leg.log"); }

start=$(seconds)
bash scripts/node24-leg.sh "$@" 2>&1 | tee "$logs/node24-leg.log"
rc=${PIPESTATUS[0]}
summary+=("Node 24 leg: $([ $rc -eq 0 ] && echo passed || echo "FAILED ($rc)") in $(($(seconds) - start)) s")
[ $rc -eq 0 ] || { status=1; failures+=("$logs/node24-leg.log"); }

# The spec reporter ends a failed run with a "failing tests:" section (each test, its file and line, its error).
for log in "${failures[@]}"; do
  echo
  echo "== failures again, from $log =="
  if grep -q 'failing tests:' "$log"; then sed -n '/failing tests:/,$p' "$log" | head -n 300; else tail -n 60 "$log"; fi
done
echo
printf '%s\n' "${summary[@]}"
exit $status
