import { createRequire } from 'node:module';
import path from 'node:path';
import type { ConverterEvent } from '../events.js';
import { runInNamespace, sh } from './chroot.js';

/**
 * meph's own initramfs-tools hook and boot scripts (root=squash:URL, modules after switch_root),
 * shipped as data files of this package and copied into /etc/initramfs-tools of images whose
 * initramfs has no rooturl/copymods (Debian). Found through the package name, not this module's
 * own place: the apps run this code bundled into their dist/bundle (tools/build-cli-assets.mjs).
 */
export const NETROOT_INITRAMFS_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('@meph/image-transform/package.json')), 'initramfs');
/** Debian packages the network root needs in the image: busybox (wget in the initramfs), overlayroot (tmpfs overlay). */
export const DEBIAN_NETROOT_PACKAGES = ['busybox', 'overlayroot'];

export interface CustomiseOptions {
  release: string;
  /** Apt mirror written to the image's sources (Debian: `deb MIRROR RELEASE main` + -updates). */
  mirror?: string;
  proposed: boolean;
  proposedPackages: string[];
  /** `deb …` lines or `ppa:…` (add-apt-repository, Ubuntu images) — M2E_ADD_REPOS. */
  addRepos: string[];
  /** M2E_ADD_PACKAGES. */
  addPackages: string[];
  prePurgePackages: string[];
  /**
   * Packages that must be installable later (the kernel packages): checked with apt-cache right
   * after `apt-get update`, so a missing one fails before any kernel or squashfs work starts.
   */
  requirePackages?: string[];
  /** Where the dpkg-query manifest of the customised tree is written. */
  manifestPath: string;
  signal?: AbortSignal;
  onEvent?: (e: ConverterEvent) => void;
}

/** Modules the initramfs must carry so the squashfs root (a virtio disk in the boot test) mounts. */
export const INITRAMFS_MODULES = ['squashfs', 'overlay', 'loop', 'virtio_pci', 'virtio_blk', 'virtio_scsi', 'sd_mod', 'ext4'];

/**
 * Package changes in a chroot, as the original `maas-cloudimg2ephemeral`: proc/sys/dev mounted
 * (private namespace), a `policy-rc.d` that starts no service, the host's resolv.conf for apt;
 * proposed, extra repositories and packages, purges (every linux-* kernel except linux-base,
 * then the pre-purge list), an init when the source has none (a minbase tree has no
 * systemd-sysv, and the image must boot to userspace), the initramfs modules, and the
 * `dpkg-query -W` manifest. policy-rc.d and resolv.conf are restored before it returns.
 */
export async function customiseTree(tree: string, o: CustomiseOptions): Promise<void> {
  const lines = (xs: string[]) => xs.map((x) => x.trim()).filter(Boolean);
  const script = `
R=${sh(tree)}
RELEASE=${sh(o.release)}
MIRROR=${sh(o.mirror ?? '')}
PROPOSED=${o.proposed ? 1 : 0}
PROPOSED_PKGS=(${lines(o.proposedPackages).map(sh).join(' ')})
ADD_REPOS=(${lines(o.addRepos).map(sh).join(' ')})
ADD_PKGS=(${lines(o.addPackages).map(sh).join(' ')})
PURGE_PKGS=(${lines(o.prePurgePackages).map(sh).join(' ')})
REQUIRE_PKGS=(${lines(o.requirePackages ?? []).map(sh).join(' ')})
MODULES=(${INITRAMFS_MODULES.join(' ')})
MANIFEST=${sh(o.manifestPath)}
NETROOT_DIR=${sh(NETROOT_INITRAMFS_DIR)}
DEBIAN_NETROOT_PKGS=(${DEBIAN_NETROOT_PACKAGES.map(sh).join(' ')})
[ -x "$R/bin/sh" ] || [ -L "$R/bin/sh" ] || die "the source has no /bin/sh: not a root file system"
chroot_mounts "$R"
c() { in_chroot "$R" "$@"; }

# resolv.conf for apt (restored on exit) and no service starts
c sh -c 'if [ -e /etc/resolv.conf ] || [ -L /etc/resolv.conf ]; then mv /etc/resolv.conf /etc/resolv.conf.meph-saved; fi; cat >/etc/resolv.conf' </etc/resolv.conf
restore() {
  c sh -c 'rm -f /etc/resolv.conf /usr/sbin/policy-rc.d; if [ -e /etc/resolv.conf.meph-saved ] || [ -L /etc/resolv.conf.meph-saved ]; then mv /etc/resolv.conf.meph-saved /etc/resolv.conf; fi' || true
}
trap restore EXIT
c sh -c 'printf "#!/bin/sh\\nexit 101\\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'

ID=$(c sh -c '. /etc/os-release 2>/dev/null; echo "\${ID:-unknown}"')
echo "CHANGE: distribution $ID, release $RELEASE"
upgrade=0
if [ -n "$MIRROR" ]; then
  if [ "$ID" = debian ]; then
    printf 'deb %s %s main\\ndeb %s %s-updates main\\n' "$MIRROR" "$RELEASE" "$MIRROR" "$RELEASE" | c sh -c 'cat >/etc/apt/sources.list'
  fi
  echo "CHANGE: apt sources from $MIRROR"
fi
mirror_of_image() { c sh -c "awk '\\$1==\\"deb\\"{print \\$2; exit}' /etc/apt/sources.list 2>/dev/null; sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null" | head -n1; }
if [ "$PROPOSED" = 1 ]; then
  m="\${MIRROR:-$(mirror_of_image)}"
  if [ "$ID" = debian ]; then line="deb $m $RELEASE-proposed-updates main"; pocket="$RELEASE-proposed-updates"
  else line="deb $m $RELEASE-proposed main universe multiverse"; pocket="$RELEASE-proposed"; fi
  echo "$line" | c sh -c 'cat >/etc/apt/sources.list.d/proposed.list'
  if [ \${#PROPOSED_PKGS[@]} -gt 0 ]; then
    printf 'Package: *\\nPin: release a=%s\\nPin-Priority: 400\\n' "$pocket" | c sh -c 'mkdir -p /etc/apt/preferences.d && cat >/etc/apt/preferences.d/proposed-updates'
  fi
  echo "CHANGE: enabled $pocket"; upgrade=1
fi
for repo in "\${ADD_REPOS[@]}"; do
  case "$repo" in
    deb\\ *) echo "$repo" | c sh -c 'cat >>/etc/apt/sources.list.d/meph-add-repos.list' ;;
    *) c add-apt-repository -y "$repo" || die "cannot add repository '$repo' (only 'deb …' lines work without add-apt-repository in the image)" ;;
  esac
  echo "CHANGE: added repository $repo"; upgrade=1
done

installed() { c dpkg-query -W -f '\${Package}\\t\${db:Status-Abbrev}\\n' "$@" 2>/dev/null | awk -F'\\t' '$2 ~ /^ii/ {print $1}'; }
mapfile -t kernels < <(installed 'linux-*' | grep -v '^linux-base$' || true)
if [ \${#kernels[@]} -gt 0 ]; then echo "CHANGE: purging kernels \${kernels[*]}"; c apt-get "\${APT_OPTS[@]}" purge "\${kernels[@]}"; fi
if [ \${#PURGE_PKGS[@]} -gt 0 ]; then
  mapfile -t purge < <(installed "\${PURGE_PKGS[@]}" || true)
  if [ \${#purge[@]} -gt 0 ]; then echo "CHANGE: purging \${purge[*]}"; c apt-get "\${APT_OPTS[@]}" purge "\${purge[@]}"; fi
fi

c apt-get -q update
for p in "\${REQUIRE_PKGS[@]}"; do
  c apt-cache show "$p" >/dev/null 2>&1 || { echo "MEPH-MISSING-PACKAGE $p" >&2; exit 3; }
done
[ "$upgrade" = 1 ] && c apt-get "\${APT_OPTS[@]}" dist-upgrade
want=("\${ADD_PKGS[@]}")
[ -e "$R/sbin/init" ] || [ -L "$R/sbin/init" ] || want+=(systemd-sysv)
if [ "$ID" = ubuntu ]; then want+=(cloud-initramfs-dyn-netconf open-iscsi overlayroot cryptsetup-initramfs); fi
if [ "$ID" = debian ]; then want+=("\${DEBIAN_NETROOT_PKGS[@]}"); fi
missing=()
for p in "\${want[@]}"; do [ -n "$(installed "$p")" ] || missing+=("$p"); done
if [ \${#missing[@]} -gt 0 ]; then echo "CHANGE: installing \${missing[*]}"; c apt-get "\${APT_OPTS[@]}" install "\${missing[@]}"; fi
for p in "\${PROPOSED_PKGS[@]}"; do c apt-get "\${APT_OPTS[@]}" install -t "$pocket" "$p"; done
[ \${#kernels[@]} -gt 0 ] || [ \${#PURGE_PKGS[@]} -gt 0 ] && c apt-get "\${APT_OPTS[@]}" autoremove --purge
c apt-get -q clean

# the initramfs of every kernel built later must be able to mount a squashfs (or overlay) root
c sh -c 'mkdir -p /etc/initramfs-tools /lib/modules && touch /etc/initramfs-tools/modules'
for m in "\${MODULES[@]}"; do
  c grep -qx "$m" /etc/initramfs-tools/modules || echo "$m" | c sh -c 'cat >>/etc/initramfs-tools/modules'
done
# Debian's initramfs-tools has no root=squash: (Ubuntu's cloud-initramfs-rooturl/copymods are
# not in Debian): meph's hook and scripts implement it, built into every kernel's initrd later
if [ "$ID" = debian ]; then
  [ -d "$NETROOT_DIR/hooks" ] || die "meph's initramfs files are missing from $NETROOT_DIR"
  tar -C "$NETROOT_DIR" --owner=0 --group=0 -cf - . | c sh -c 'mkdir -p /etc/initramfs-tools && tar -C /etc/initramfs-tools --no-same-owner -xf -'
  echo "CHANGE: installed meph-netroot initramfs hook (root=squash:URL, copy modules)"
fi
c sh -c 'if [ -d /etc/overlayroot.conf ] || dpkg-query -W overlayroot >/dev/null 2>&1; then printf "overlayroot_cfgdisk=disabled\\noverlayroot=tmpfs\\n" >/etc/overlayroot.local.conf; fi'
c dpkg-query -W >"$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
`;
  await runInNamespace(script, {
    signal: o.signal,
    what: 'customise (chroot apt)',
    spacePath: tree,
    onLine: (line) => {
      if (/^(CHANGE|NO_CHANGE):/.test(line)) o.onEvent?.({ type: 'log', step: 'customise', message: line });
    },
  });
}
