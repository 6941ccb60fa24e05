/**
 * What a boot test boots, found in a local stream: the kernel products, a product's boot files,
 * the bootloader archives a firmware needs, and the rack path MAAS serves a product under.
 */
import { compareVersions, isHttpUrl, resolveInside, type LoadedStream } from '@meph/simplestreams';
import { BootTargetError } from '../errors.js';

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
