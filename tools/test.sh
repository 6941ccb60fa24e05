#!/usr/bin/env bash
# Runs every test and ends with one line "N passed, N failed" computed from Vitest's JSON
# reports. The fast tier runs with file parallelism; the slow tier (*.slow.test.ts,
# *.e2e.test.ts: real images, qemu boots, gpg-heavy or crash tests) runs one file at a time so
# that heavy end-to-end tests do not starve each other on a 2-core machine.
#   MEPH_TEST_TIER=fast tools/test.sh   only the fast tier (npm run test:fast)
#   tools/test.sh path/filter …        extra arguments go to both Vitest runs
set -uo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true
reports="$(mktemp -d)"
trap 'rm -rf "$reports"' EXIT

if ! npm run -s build >&2; then
  echo "test: type-check/build failed" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

rc=0
MEPH_TEST_TIER=fast npx vitest run --passWithNoTests --reporter=default --reporter=json \
  --outputFile.json="$reports/fast.json" "$@" || rc=1
if [ "${MEPH_TEST_TIER:-}" != "fast" ]; then
  npx vitest run --passWithNoTests --no-file-parallelism --reporter=default --reporter=json \
    --outputFile.json="$reports/slow.json" "$@" .slow.test.ts .e2e.test.ts || rc=1
fi
node tools/test-summary.mjs "$reports"/*.json || rc=1
exit $rc
