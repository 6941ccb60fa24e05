/**
 * The defaults of the boot tests and what `boot-test --help` says about the MAAS-style network
 * boot: plain data beside the code it describes. Imports nothing at run time (entry point
 * `@meph/image-transform/boot-options`), so the command's --help does not load the boot code.
 */

/** A direct boot: kernel + initrd with the squashfs as a read-only virtio disk (boot-test.ts). */
export const BOOT_TEST_DEFAULTS = { timeoutSeconds: 300, memoryMb: 1024 } as const;

/**
 * A network boot the way MAAS boots (pxe-boot.ts): longer (DHCP, TFTP, the squashfs over HTTP)
 * and more memory (the squashfs is held in RAM); BIOS (pxelinux) unless UEFI is asked for.
 */
export const PXE_BOOT_DEFAULTS = { timeoutSeconds: 600, stallSeconds: 150, memoryMb: 2048, firmwares: ['bios'] } as const;

/** How the network boot plays the MAAS rack (the kernel command line, paths, bootloaders) and what it checks, for `--help`. */
export const PXE_BOOT_HELP =
  'the stream\'s bootloader products (pxe/pxelinux for --firmware bios, uefi/grub-efi-signed amd64 for uefi) are extracted into a TFTP root ' +
  'served by QEMU\'s user network (tftp=, bootfile=lpxelinux.0 or bootx64.efi), kernel, initrd and squashfs are served over HTTP on 127.0.0.1 ' +
  '(10.0.2.2 in the guest) under /images/<os>/<arch>/<subarch>/<release>/<label>/, the pxelinux or GRUB config is rendered as MAAS renders it ' +
  "(nomodeset ro root=squash:http://<rack>/images/…/squashfs ip=::::<hostname>:BOOTIF ip6=off overlayroot=tmpfs overlayroot_cfgdisk=disabled " +
  "cc:{'datasource_list': ['MAAS']}end_cc cloud-config-url=… BOOTIF=01-<mac>, plus console=ttyS0 and the checks) and QEMU (TCG) boots with -boot n: " +
  'BIOS through the iPXE ROM (ipxe-qemu), UEFI through OVMF\'s own PXE (ovmf; shim cannot load GRUB through iPXE). GRUB fetches kernel and initrd ' +
  'over HTTP where it supports a port, else over TFTP (Debian\'s signed GRUB 2.06 does not). It passes only when the booted system reports / as an overlay whose lower ' +
  'layer is a squashfs on a loop device backed by the file fetched over HTTP, and modprobe of a module not loaded at boot (isofs, udf or xfs) ' +
  'succeeds. Prints the time of each stage (dhcp, bootloader, kernel-initrd, squashfs, userspace, checks); on failure the console tail and the ' +
  'stage that stalled.';
