#!/usr/bin/env bash
# The main job: build Debian bookworm (generic + cloud kernels, conf/debian-bookworm.yaml) from
# the built-in default source — a minbase root tarball made from this machine's Debian mirror
# and cached by tools/make-bookworm-rootfs.sh — with meph2-build, boot-test every product it
# built under QEMU, then print what to run next (stderr) and the path of the stream (the only
# line on stdout).
#
#   MEPH_MAIN_JOB_OUT   stream directory (default /var/tmp/meph-main-job/stream)
#   MEPH_MAIN_JOB_SERIAL version name (default: today, UTC, YYYYMMDD); rerunning the same
#                       serial reuses what was built (meph2-build does nothing) and boots again
#   MEPH_SIGNING_KEY / MEPH_GPG_KEY  sign the stream; unset = unsigned
#
# Every stage prints "main-job [m:ss] <stage>" on stderr, and its own progress below it
# (debootstrap phases, converter steps and package installs, mksquashfs %, boot stages).
set -euo pipefail
cd "$(dirname "$0")/.."

out="${MEPH_MAIN_JOB_OUT:-/var/tmp/meph-main-job/stream}"
serial="${MEPH_MAIN_JOB_SERIAL:-$(date -u +%Y%m%d)}"
sign=()
verify=(--no-verify)
if [ -n "${MEPH_SIGNING_KEY:-}${MEPH_GPG_KEY:-}" ]; then sign=(--sign); verify=(--keyring YOUR-PUBLIC-KEYRING.gpg); fi
started=$SECONDS
stage() { printf 'main-job [%d:%02d] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*" >&2; }

# ---- source: minbase bookworm root tarball (debootstrap on a cold cache) ----
stage "source: bookworm minbase root tarball (tools/make-bookworm-rootfs.sh)"
source_tarball="$(bash tools/make-bookworm-rootfs.sh)"

# ---- build ----
stage "build: meph2-build bookworm/amd64 $serial from $source_tarball into $out"
npx meph2-build -v --config conf/debian-bookworm.yaml "${sign[@]}" amd64 bookworm "$serial" "$source_tarball" "$out" >/dev/null

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

# ---- boot tests (QEMU, one per product) ----
for id in "${products[@]}"; do
  stage "boot-test $id $serial"
  npx meph2-util boot-test "$out" "$id" "$serial" >&2
done

# ---- network boot as MAAS does: Debian bootloaders into the same stream (skipped when already
# imported from the same package versions), then every product over PXE, BIOS and UEFI ----
stage "import: bootloaders from this machine's Debian mirror (conf/bootloaders-debian.yaml)"
import_sign=(--no-sign)
if [ "${#sign[@]}" -gt 0 ]; then import_sign=(); fi
npx meph2-util import "${import_sign[@]}" bootloaders-debian.yaml "$out" >&2
stage "boot-test --pxe (bios, uefi) of every product"
npx meph2-util boot-test --pxe --no-verify --firmware bios --firmware uefi "$out" >&2

# ---- done: what to run next, then the stream path (stdout) ----
stage "done: ${#products[@]} products of bookworm/amd64 $serial built and booted"
cat >&2 <<NEXT
Stream: $out
Next:
  npx meph2-util verify ${verify[*]} --data --maas $out    # checksums of every file + MAAS acceptance rules
  npx meph2-util query -o '%(product_name)s %(version_name)s %(item_name)s %(path)s' $out release=bookworm
  npx meph2-util boot-test $out ${products[0]} $serial      # boot one product again under QEMU
  npx meph2-util boot-test --pxe --no-verify $out           # network-boot every product as MAAS does (BIOS)
  npx meph2-util insert -u $out daily.d/                    # start a daily stream from it (see README "Everyday use")
NEXT
echo "$out"
