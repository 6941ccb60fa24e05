/**
 * What a boot test boots, found in a local stream: the kernel products, a product's boot files,
 * the bootloader archives a firmware needs, and the rack path MAAS serves a product under.
 */
import { compareVersions, isHttpUrl, resolveInside, type LoadedStream } from '@meph/simplestreams';
import { BootTargetError, BootTestError } from '../errors.js';
import type { PxeBootEvent } from '../events.js';
import { pxeBootTest, type PxeBootOptions, type PxeBootResult, type PxeFirmware } from './pxe-boot.js';

/** Products with boot-kernel (every kernel product), in stream order. */
export function kernelProducts(stream: LoadedStream): string[] {
  return stream.products.flatMap((f) =>
    Object.entries(f.doc.products)
      .filter(([, p]) => Object.values(p.versions).some((v) => Object.entries(v.items).some(([n, i]) => (i.ftype ?? n) === 'boot-kernel')))
      .map(([id]) => id),
  );
}

function field(stream: LoadedStream, productId: string, name: string): string | undefined {
  for (const f of stream.products) {
    const p = f.doc.products[productId];
    if (!p) continue;
    const v = p[name] ?? (f.doc as Record<string, unknown>)[name];
    return typeof v === 'string' ? v : undefined;
  }
  return undefined;
}

/** The rack's path for a product: `<os>/<arch>/<subarch>/<release>/<label>` (the flavour joins the subarch as in the product id). */
export function rackImagePath(stream: LoadedStream, productId: string): string {
  const f = (n: string) => field(stream, productId, n);
  const subarch = f('subarch') ?? 'generic';
  const kflavor = f('kflavor');
  const sub = kflavor && kflavor !== 'generic' && !subarch.includes(kflavor) ? `${subarch}-${kflavor}` : subarch;
  const parts = [f('os') ?? 'ubuntu', f('arch'), sub, f('release'), f('label') ?? 'candidate'];
  if (parts.some((p) => !p || !/^[A-Za-z0-9._+-]+$/.test(p) || p === '.' || p === '..')) {
    throw new BootTargetError(`${productId}: os, arch, subarch, release and label must be plain names for the rack path (got ${parts.map(String).join('/')})`);
  }
  return parts.join('/');
}

/** The archive.tar.xz files of the newest version of the bootloader product the firmware needs. */
export function bootloaderArchives(stream: LoadedStream, firmware: 'bios' | 'uefi'): { productId: string; version: string; files: string[] } | undefined {
  const root = stream.source.root;
  for (const f of stream.products) {
    for (const [id, p] of Object.entries(f.doc.products)) {
      const get = (n: string) => (p[n] ?? (f.doc as Record<string, unknown>)[n]) as string | undefined;
      const type = get('bootloader-type');
      const ok = firmware === 'bios' ? type === 'pxe' && get('os') === 'pxelinux' : type === 'uefi' && get('arch') === 'amd64' && get('os') === 'grub-efi-signed';
      if (!ok) continue;
      const names = Object.keys(p.versions).sort(compareVersions);
      const v = names.at(-1);
      if (!v) continue;
      const files = Object.values(p.versions[v]!.items).filter((i) => i.ftype === 'archive.tar.xz' && i.path).map((i) => resolveInside(root, i.path!, f.path));
      return { productId: id, version: v, files };
    }
  }
  return undefined;
}

export interface BootArtifacts {
  version: string;
  kernel: string;
  initrd: string;
  squashfs: string;
}

/** Finds the product's version (newest by default) and the local paths of its boot files. */
export function resolveBootArtifacts(stream: LoadedStream, productId: string, version?: string): BootArtifacts {
  const root = stream.source.root;
  if (isHttpUrl(root)) throw new BootTargetError(`boot-test needs a local stream directory, not ${root}`, 'mirror it first (meph2-util insert)');
  const found = stream.products.find((p) => p.doc.products[productId]);
  const product = found?.doc.products[productId];
  if (!product || !found) {
    const known = stream.products.flatMap((p) => Object.keys(p.doc.products)).slice(0, 8);
    throw new BootTargetError(`no product ${productId} in ${root}`, known.length ? `products there include ${known.join(', ')}` : 'the stream has no products');
  }
  const names = Object.keys(product.versions).sort(compareVersions);
  const v = version ?? names[names.length - 1];
  const ver = v === undefined ? undefined : product.versions[v];
  if (!ver || v === undefined) throw new BootTargetError(`product ${productId} has no version ${version ?? '(none at all)'}`, names.length ? `versions: ${names.join(', ')}` : undefined);
  const item = (ftype: string): string => {
    const it = Object.entries(ver.items).find(([name, i]) => (i.ftype ?? name) === ftype)?.[1];
    if (!it?.path) throw new BootTargetError(`${productId} ${v} has no ${ftype} item`, 'boot-test needs boot-kernel, boot-initrd and squashfs');
    return resolveInside(root, it.path, found.path);
  };
  return { version: v, kernel: item('boot-kernel'), initrd: item('boot-initrd'), squashfs: item('squashfs') };
}

/** One network boot of {@link pxeBootStream}: what was booted, and its result or why it failed. */
export type PxeStreamBoot = { firmware: PxeFirmware; productId: string; version: string; bootloader?: { productId: string; version: string } } & (
  | { ok: true; result: PxeBootResult }
  | { ok: false; error: BootTestError }
);

export interface PxeStreamOptions extends Omit<PxeBootOptions, 'firmware' | 'imagePath' | 'files' | 'bootloaderArchives' | 'consoleFile' | 'onEvent'> {
  /** Products to boot (default: every product with boot-kernel), each at its newest version. */
  productIds?: readonly string[];
  firmwares: readonly PxeFirmware[];
  /** The serial console of each boot; with several boots, suffixed `.<firmware>.<product>`. */
  consoleFile?: string;
  /** Called before each boot starts. */
  onStart?: (boot: { firmware: PxeFirmware; productId: string; version: string; bootloader: { productId: string; version: string } }) => void;
  /** Each event of a boot, with the boot it belongs to (`{ productId, firmware }`, in that order). */
  onEvent?: (e: PxeBootEvent, boot: { productId: string; firmware: PxeFirmware }) => void;
}

/**
 * Network-boots products of a local stream the way a MAAS rack does, for each firmware in turn:
 * the stream's bootloader product for that firmware in the TFTP root, the product's newest
 * boot files over HTTP. Yields each boot's outcome; a failed boot (BootTestError) is an outcome,
 * any other error ends the run.
 */
export async function* pxeBootStream(stream: LoadedStream, options: PxeStreamOptions): AsyncGenerator<PxeStreamBoot> {
  const root = stream.source.root;
  if (isHttpUrl(root)) throw new BootTargetError(`boot-test needs a local stream directory, not ${root}`, 'mirror it first (meph2-util insert)');
  const products = options.productIds?.length ? [...options.productIds] : kernelProducts(stream);
  if (products.length === 0) throw new BootTargetError(`no product with boot-kernel in ${root}`);
  const firmwares = [...new Set(options.firmwares)];
  const { productIds: _p, firmwares: _f, consoleFile, onStart, onEvent, ...boot } = options;
  for (const firmware of firmwares) {
    const bl = bootloaderArchives(stream, firmware);
    for (const productId of products) {
      const target = resolveBootArtifacts(stream, productId);
      const about = { firmware, productId, version: target.version, ...(bl ? { bootloader: { productId: bl.productId, version: bl.version } } : {}) };
      try {
        if (!bl || bl.files.length === 0) {
          throw new BootTestError(
            `no ${firmware === 'bios' ? 'pxe/pxelinux' : 'uefi/grub-efi-signed/amd64'} bootloader product in ${root}: the rack has nothing to serve over TFTP`,
            'bootloader', '', { hint: 'import one: meph2-util import bootloaders-debian.yaml STREAM' },
          );
        }
        onStart?.({ firmware, productId, version: target.version, bootloader: { productId: bl.productId, version: bl.version } });
        const several = firmwares.length * products.length > 1;
        const result = await pxeBootTest({
          ...boot,
          firmware,
          imagePath: rackImagePath(stream, productId),
          files: { 'boot-kernel': target.kernel, 'boot-initrd': target.initrd, squashfs: target.squashfs },
          bootloaderArchives: bl.files,
          ...(consoleFile ? { consoleFile: several ? `${consoleFile}.${firmware}.${productId.replace(/[^A-Za-z0-9._-]/g, '_')}` : consoleFile } : {}),
          ...(onEvent ? { onEvent: (e: PxeBootEvent) => onEvent(e, { productId, firmware }) } : {}),
        });
        yield { ...about, ok: true, result };
      } catch (e) {
        if (!(e instanceof BootTestError)) throw e;
        yield { ...about, ok: false, error: e };
      }
    }
  }
}
