import { run, type RunOptions, type RunResult } from './exec.js';

/**
 * Runs a bash script in a private mount + PID namespace (`unshare --mount --pid --fork
 * --kill-child`). Every mount the script makes (proc/sys/dev of a chroot, overlays) lives only
 * in that namespace, so the kernel drops all of them when the script ends, fails, is aborted or
 * when this process is SIGKILLed (unshare's --kill-child takes the namespace's init with it).
 * No daemon started by a maintainer script can survive either: the PID namespace dies too.
 * This is what makes "no mount left behind" hold even after a crash.
 */
export function runInNamespace(script: string, options: Omit<RunOptions, 'input' | 'stdin'> = {}): Promise<RunResult> {
  return run('unshare', ['--mount', '--pid', '--fork', '--kill-child', '--propagation', 'private', 'bash', '-c', PRELUDE + script], {
    ...options,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', HOME: '/root', ...options.env },
  });
}

/** Quotes a value for bash. */
export function sh(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell helpers available to every namespace script.
 * - `chroot_mounts ROOT`: proc, sys, dev, dev/pts inside ROOT. Refuses when one of those paths
 *   in the image is a symlink (mount would follow it onto the host).
 * - `in_chroot ROOT CMD…`: runs CMD in ROOT with a clean, non-interactive apt environment.
 */
const PRELUDE = `set -euo pipefail
die() { echo "meph: $*" >&2; exit 1; }
safe_dir() { # ROOT REL: REL exists as a real directory (not a symlink) inside ROOT
  local p="$1"; local rel="$2"; local part
  IFS=/ read -ra parts <<<"$rel"
  for part in "\${parts[@]}"; do
    [ -n "$part" ] || continue
    p="$p/$part"
    [ -L "$p" ] && die "image path /$rel is a symlink; refusing to mount over it"
    [ -d "$p" ] || mkdir "$p"
  done
  return 0
}
chroot_mounts() {
  local r="$1"
  safe_dir "$r" proc; safe_dir "$r" sys; safe_dir "$r" dev; safe_dir "$r" tmp
  mount -t proc proc "$r/proc"
  mount -t sysfs sysfs "$r/sys"
  mount --bind /dev "$r/dev"
  safe_dir "$r" dev/pts
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$r/dev/pts"
}
in_chroot() {
  local r="$1"; shift
  chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C LANG=C HOME=/root \\
    DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true FLASH_KERNEL_SKIP=1 "$@"
}
# --force-unsafe-io: no fsync per unpacked file; the trees are scratch space until mksquashfs
# reads them, and the fsyncs dominated kernel installs (hundreds of module files) on a busy disk.
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-unsafe-io -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0)
`;
