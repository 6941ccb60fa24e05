#!/usr/bin/env bash
# Runs every test (or the fast tier with MEPH_TEST_TIER=fast) and ends with one line
# "N passed, N failed" computed from Vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true
report="$(mktemp -d)/vitest-report.json"

if ! npx tsc -b tsconfig.json; then
  echo "test: type-check/build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
node tools/test-summary.mjs "$report" || rc=1
exit $rc
