import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { KernelRequest } from '../converter.js';
import type { ConverterEvent } from '../events.js';
import { CommandFailedError, KernelPackageNotFoundError } from '../errors.js';
import { runInNamespace, sh } from './chroot.js';

export interface KernelBuildOptions {
  /** The customised tree: the read-only lower layer, never modified. */
  tree: string;
  /** Scratch for this kernel's overlay upper/work dirs (deleted afterwards). */
  scratch: string;
  signal?: AbortSignal;
  onEvent?: (e: ConverterEvent) => void;
}

export interface KernelBuildResult {
  flavor: string;
  /** `<version>-<flavour>` as in /boot/vmlinuz-<verflav>. */
  verflav: string;
  files: string[];
  seconds: number;
}

/**
 * `kpack-from-image` for one kernel: an overlayfs over the customised tree (so any number run
 * side by side and the tree stays untouched), the kernel package and initramfs-tools installed
 * in a chroot on it, its initramfs (re)built if the package did not, then kernel, initrd and
 * the requested dtb copied out. The overlay only exists in the script's private mount
 * namespace and its upper dir is deleted, so nothing of it outlives the call.
 */
export async function buildKernel(k: KernelRequest, o: KernelBuildOptions): Promise<KernelBuildResult> {
  const t0 = performance.now();
  const dir = o.scratch;
  const out = path.join(dir, 'out');
  await mkdir(out, { recursive: true });
  o.onEvent?.({ type: 'step', step: `kernel:${k.flavor}`, state: 'start', package: k.package });
  const script = `
LOWER=${sh(o.tree)}
D=${sh(dir)}
OUT=${sh(out)}
KPKG=${sh(k.package)}
DTB=${sh(k.dtb?.name ?? '')}
mkdir -p "$D/upper" "$D/work" "$D/merged"
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$D/upper,workdir=$D/work" "$D/merged"
M="$D/merged"
chroot_mounts "$M"
c() { in_chroot "$M" "$@"; }
c sh -c 'rm -f /etc/resolv.conf; cat >/etc/resolv.conf' </etc/resolv.conf
c sh -c 'printf "#!/bin/sh\\nexit 101\\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && touch /tmp/.meph-kpack-stamp'
# the hooks that would try to update a boot loader inside the image
c sh -c 'for f in /etc/kernel/postinst.d/zz-update-grub /etc/kernel/postrm.d/zz-update-grub; do [ -e "$f" ] && chmod -x "$f"; done; true'
if ! c apt-cache show "$KPKG" >/dev/null 2>&1; then echo "MEPH-NO-KERNEL-PACKAGE $KPKG" >&2; exit 3; fi
c apt-get "\${APT_OPTS[@]}" install initramfs-tools "$KPKG"

# which /boot/vmlinu?-* belongs to the requested (possibly meta) package
verflav=""
for k in "$M"/boot/vmlinu?-*; do
  [ -e "$k" ] || continue
  f="/boot/\${k##*/}"
  owner=$(c dpkg-query -S "$f" | sed 's/:.*//' | head -n1)
  if [ "$owner" = "$KPKG" ] || c apt-get -s remove "$owner" | grep "^Remv $KPKG " >/dev/null; then
    verflav="\${f#/boot/vmlinu?-}"
    case "$f" in *.efi.signed|*signed) break ;; esac
  fi
done
[ -n "$verflav" ] || die "no /boot/vmlinu?-* of $KPKG after installing it"
if [ ! -e "$M/boot/initrd.img-$verflav" ] || [ "$M/boot/initrd.img-$verflav" -ot "$M/tmp/.meph-kpack-stamp" ]; then
  c update-initramfs -c -k "$verflav"
fi
kernel=$(ls -1 "$M"/boot/vmlinu?-"$verflav"* | head -n1)
cp --dereference "$kernel" "$OUT/kernel"
cp --dereference "$M/boot/initrd.img-$verflav" "$OUT/initrd"
if [ -n "$DTB" ]; then
  found=$(find "$M/usr/lib/linux-image-$verflav" "$M/lib/firmware/$verflav/device-tree" -name "$DTB" -o -name "$DTB.dtb" 2>/dev/null | head -n1)
  [ -n "$found" ] || die "dtb $DTB not found in $KPKG"
  cp --dereference "$found" "$OUT/dtb"
fi
echo "$verflav" >"$OUT/verflav"
`;
  try {
    await runInNamespace(script, {
      signal: o.signal,
      what: `kernel ${k.package} (${k.flavor})`,
      spacePath: dir,
      onLine: (line, stream) => {
        if (stream === 'stdout' && /^(Setting up|Unpacking) /.test(line)) o.onEvent?.({ type: 'log', step: `kernel:${k.flavor}`, message: line });
      },
    });
  } catch (e) {
    if (e instanceof CommandFailedError && /MEPH-NO-KERNEL-PACKAGE|Unable to locate package|has no installation candidate/.test(e.stderrTail)) throw new KernelPackageNotFoundError(k.package, k.flavor, { cause: e });
    throw e;
  } finally {
    // Only the upper layer holds data; the overlay mount died with the namespace.
    await rm(path.join(dir, 'upper'), { recursive: true, force: true }).catch(() => {});
    await rm(path.join(dir, 'work'), { recursive: true, force: true }).catch(() => {});
  }
  const verflav = (await readFile(path.join(out, 'verflav'), 'utf8')).trim();
  const files: string[] = [];
  const place = async (from: string, to: string) => {
    await placeFile(from, to);
    files.push(to);
  };
  try {
    await place(path.join(out, 'kernel'), k.kernelPath);
    await place(path.join(out, 'initrd'), k.initrdPath);
    if (k.dtb) await place(path.join(out, 'dtb'), k.dtb.path);
  } catch (e) {
    await Promise.all(files.map((f) => rm(f, { force: true })));
    throw e;
  }
  await rm(dir, { recursive: true, force: true });
  const seconds = (performance.now() - t0) / 1000;
  o.onEvent?.({ type: 'step', step: `kernel:${k.flavor}`, state: 'done', verflav, seconds });
  return { flavor: k.flavor, verflav, files, seconds };
}

/** Moves a finished file to its destination atomically (temp in the destination directory + rename). */
export async function placeFile(from: string, to: string): Promise<void> {
  await mkdir(path.dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  try {
    await rename(from, tmp).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EXDEV') throw e;
      await copyFile(from, tmp);
    });
    await rename(tmp, to);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
