#!/bin/sh
# A site converter written against the original maas-cloudimg2eph2 contract (as a site would
# extend maas-images): parses the original's argument vector, writes every output asked for,
# and records its argv (one per line) and environment in $SITE_CONVERTER_LOG.
# SITE_CONVERTER_FAIL=N makes it print an apt-style error and exit N.
set -eu
log=${SITE_CONVERTER_LOG:-/dev/null}
: > "$log"
for a in "$@"; do printf 'arg %s\n' "$a" >> "$log"; done
printf 'env M2E_ADD_PACKAGES=%s\n' "${M2E_ADD_PACKAGES:-}" >> "$log"
printf 'mirror %s\n' "${UBUNTU_MIRROR:-}" >> "$log"
printf 'cwd %s\n' "$PWD" >> "$log"
if [ -n "${SITE_CONVERTER_FAIL:-}" ]; then
  echo "E: Unable to locate package linux-site-special" >&2
  exit "$SITE_CONVERTER_FAIL"
fi
manifest='' krds='' nogzip=0 nosquash=0 kernel='' set_pos=''
for a in "$@"; do
  case "$a" in
    --manifest=*) manifest=${a#--manifest=} ;;
    --krd-pack=*) krds="$krds ${a#--krd-pack=}" ;;
    --kernel=*) kernel=${a#--kernel=} ;;
    --no-gzip) nogzip=1 ;;
    --no-squashfs) nosquash=1 ;;
    -*) ;;
    *) set_pos="$set_pos $a" ;;
  esac
done
# shellcheck disable=SC2086
set -- $set_pos
src=$1 out=$2
echo "site converter: $src -> $out (kernel $kernel)" >&2
[ -r "$src" ] || { echo "site converter: cannot read $src" >&2; exit 2; }
printf 'base-files\t12.4\ncloud-init\t22.4\n' > "$manifest"
for k in $krds; do
  old_ifs=$IFS; IFS=,
  # shellcheck disable=SC2086
  set -- $k
  IFS=$old_ifs
  printf 'site kernel for %s\n' "$1" > "$2"
  printf 'site initrd for %s\n' "$1" | gzip -9n > "$3"
done
if [ "$nogzip" = 1 ]; then printf 'raw ext4 image\n' > "$out"; else printf 'root image\n' | gzip -9n > "$out"; fi
if [ "$nosquash" = 0 ]; then
  tree=$(mktemp -d)
  mkdir -p "$tree/etc" && printf 'ID=site\n' > "$tree/etc/os-release"
  mksquashfs "$tree" "$(dirname "$out")/squashfs" -noappend -quiet -no-progress -all-root >/dev/null
  rm -rf "$tree"
fi
