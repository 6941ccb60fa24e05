#!/usr/bin/env bash
# Makes (or reuses) the built-in default build source: a minimal Debian bookworm root tarball
# (debootstrap --variant=minbase, no kernel), in the layout of a cloud `-root.tar.xz`.
#
#   tools/make-bookworm-rootfs.sh [--arch amd64] [--suite bookworm]
#
# Prints the tarball's path on stdout (progress goes to stderr). The Debian mirror is the one
# this machine's apt is configured with (never a hard-coded host). The tarball is cached in
# ${MEPH_TEST_CACHE:-/var/cache/meph-test}, keyed by suite, arch, mirror and ISO week, so CI
# runs on one machine reuse it; a missing cache is rebuilt from scratch (about 30 s).
set -euo pipefail

arch=amd64
suite=bookworm
while (($#)); do
  case "$1" in
    --arch) arch="$2"; shift 2 ;;
    --suite) suite="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "make-bookworm-rootfs: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

# The first deb822 URIs / one-line `deb` URL of this machine's apt sources that serves $suite
# (the security archive serves "$suite-security" only, so it never matches).
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '
      BEGIN { RS=""; FS="\n" }
      {
        uris=""; ok=0; enabled=1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uris=u[1] }
          if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok=1 }
          if ($i ~ /^Enabled:[ \t]*no/) enabled=0
        }
        if (ok && enabled && uris != "") { print uris; exit }
      }' "$f"
  done
  if [ -f /etc/apt/sources.list ]; then
    awk -v suite="$suite" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i+1) == suite) { print $i; exit } }' /etc/apt/sources.list
  fi
}

mirror="${MEPH_DEBIAN_MIRROR:-$(host_mirror | head -n1)}"
if [ -z "$mirror" ]; then
  echo "make-bookworm-rootfs: no apt source for '$suite' in /etc/apt/sources.list(.d); set MEPH_DEBIAN_MIRROR" >&2
  exit 1
fi

cache="${MEPH_TEST_CACHE:-/var/cache/meph-test}"
key="$(printf '%s' "$mirror" | sha256sum | cut -c1-12)"
week="$(date -u +%G-W%V)"
out="$cache/$suite-minbase-$arch-$week-$key-root.tar.xz"
mkdir -p "$cache"

exec 9>"$cache/.lock-$suite-$arch"
flock 9   # one builder at a time; the others wait and reuse its result
if [ -s "$out" ]; then
  echo "$out"
  exit 0
fi

tmp="$(mktemp -d "$cache/.build-$suite-XXXXXX")"
ticker=
cleanup() { [ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true; rm -rf --one-file-system "$tmp"; }
trap cleanup EXIT
echo "make-bookworm-rootfs: debootstrap --variant=minbase $suite ($arch) from $mirror" >&2
# Progress: each debootstrap phase once (Retrieving, Validating, Extracting, Unpacking,
# Configuring, …) and every 20th package within it; the whole output goes to the log.
debootstrap --variant=minbase --arch="$arch" "$suite" "$tmp/root" "$mirror" 2>&1 | tee "$tmp/debootstrap.log" |
  awk '/^I: / { verb = $2; if (verb != last) { n = 0; last = verb; print "make-bookworm-rootfs: debootstrap " substr($0, 4) } else if (++n % 20 == 0) print "make-bookworm-rootfs: debootstrap " verb " … (" n " more)"; fflush() }' >&2 ||
  {
    tail -n 20 "$tmp/debootstrap.log" >&2
    echo "make-bookworm-rootfs: debootstrap failed (log above)" >&2
    exit 1
  }
rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_* || true
echo "make-bookworm-rootfs: packing $out" >&2
# Multi-threaded xz, as cloud images ship; --numeric-owner and xattrs so it is a faithful root fs.
# A line every 10 s with the size written so far (packing takes minutes on a busy machine).
( while sleep 10; do echo "make-bookworm-rootfs: packing: $(du -h "$tmp/root.tar.xz" 2>/dev/null | cut -f1) written" >&2; done ) >/dev/null &
ticker=$!
tar --numeric-owner --xattrs --xattrs-include='*' -C "$tmp/root" -cf - . | xz -T0 -3 >"$tmp/root.tar.xz"
kill "$ticker" 2>/dev/null || true
sync -f "$tmp/root.tar.xz"
mv "$tmp/root.tar.xz" "$out"
# Keep the cache small: older weeks / mirrors of the same suite and arch go.
find "$cache" -maxdepth 1 -name "$suite-minbase-$arch-*-root.tar.xz" ! -path "$out" -delete
echo "$out"
