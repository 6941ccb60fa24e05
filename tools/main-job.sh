#!/usr/bin/env bash
# The main job on a built-in default: query the bundled reference MAAS stream.
set -euo pipefail
cd "$(dirname "$0")/.."
npx meph2-util query --max 1 ../shared/reference/streams/maas-sitemanager-fixture/ss_product_noble.json
