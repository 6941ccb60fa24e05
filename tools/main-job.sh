#!/usr/bin/env bash
# The main job: build Debian bookworm (generic + cloud kernels, conf/debian-bookworm.yaml) from
# the built-in default source — a minbase root tarball made from this machine's Debian mirror
# and cached by tools/make-bookworm-rootfs.sh — with meph2-build, boot-test every product it
# built under QEMU, and print the path of the stream (the only line on stdout).
#
#   MEPH_MAIN_JOB_OUT   stream directory (default /var/tmp/meph-main-job/stream)
#   MEPH_MAIN_JOB_SERIAL version name (default: today, UTC, YYYYMMDD); rerunning the same
#                       serial reuses what was built (meph2-build does nothing) and boots again
#   MEPH_SIGNING_KEY / MEPH_GPG_KEY  sign the stream; unset = unsigned (--no-sign)
set -euo pipefail
cd "$(dirname "$0")/.."

out="${MEPH_MAIN_JOB_OUT:-/var/tmp/meph-main-job/stream}"
serial="${MEPH_MAIN_JOB_SERIAL:-$(date -u +%Y%m%d)}"
sign=(--no-sign)
if [ -n "${MEPH_SIGNING_KEY:-}${MEPH_GPG_KEY:-}" ]; then sign=(); fi

echo "main-job: source" >&2
source_tarball="$(bash tools/make-bookworm-rootfs.sh)"

echo "main-job: meph2-build bookworm/amd64 $serial from $source_tarball into $out" >&2
npx meph2-build --config conf/debian-bookworm.yaml "${sign[@]}" amd64 bookworm "$serial" "$source_tarball" "$out" >/dev/null

mapfile -t products < <(node -e '
  const fs = require("fs"), path = require("path");
  const [dir, serial] = process.argv.slice(1);
  const index = JSON.parse(fs.readFileSync(path.join(dir, "streams/v1/index.json"), "utf8"));
  for (const entry of Object.values(index.index)) {
    const doc = JSON.parse(fs.readFileSync(path.join(dir, entry.path), "utf8"));
    for (const [id, p] of Object.entries(doc.products))
      if (p.release === "bookworm" && p.arch === "amd64" && p.versions[serial]) console.log(id);
  }' "$out" "$serial")
if [ "${#products[@]}" -eq 0 ]; then
  echo "main-job: no bookworm/amd64 $serial products in $out" >&2
  exit 1
fi

for id in "${products[@]}"; do
  echo "main-job: boot-test $id $serial" >&2
  npx meph2-util boot-test "$out" "$id" "$serial" >&2
done

# Network boot as MAAS does: bootloaders from this machine's Debian mirror into the same stream
# (skipped when already imported from the same package versions), then every kernel product
# over PXE in BIOS (pxelinux) and UEFI (shim + GRUB, OVMF) mode.
echo "main-job: import bootloaders (conf/bootloaders-debian.yaml)" >&2
npx meph2-util import "${sign[@]}" bootloaders-debian.yaml "$out" >&2
echo "main-job: boot-test --pxe (bios, uefi) of every product" >&2
npx meph2-util boot-test --pxe --no-verify --firmware bios --firmware uefi "$out" >&2
echo "$out"
