#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for meph: Debian packages, npm packages, build.
#   tools/setup.sh             install everything, build, then run the main job (tools/main-job.sh)
#   tools/setup.sh --deps-only install and build only (what CI uses)
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t pkgs < <(grep -v '^\s*#' tools/debian-packages.txt | sed '/^\s*$/d')
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

echo "setup: installing npm packages" >&2
npm ci --no-audit --no-fund >&2
echo "setup: building" >&2
npm run build >&2

if [ "${1:-}" != "--deps-only" ]; then
  exec bash tools/main-job.sh
fi
