import { resolveInside, scalarText, type ProductsDocument } from '@meph/simplestreams';
import type { DiItem } from './crawl.js';
import { DiKernelInfoMissingError } from './errors.js';
import { isNotFound, type HttpClient } from '@meph/http';

/** The d-i files of one release/arch/flavor/kernel-release/image-format, from one version. */
export interface DiKernelFiles {
  diVersion: string;
  pocket: string;
  kernel?: DiItem;
  initrd?: DiItem;
  /** By dtb file name (`apm-mustang.dtb`). */
  dtbs: Record<string, DiItem>;
}

/** `[release][arch][kernel-flavor][kernel-release][image-format]` → files. */
export type DiKernelInfo = Record<string, Record<string, Record<string, Record<string, Record<string, DiKernelFiles>>>>>;

/**
 * Indexes a crawl result the way builds look d-i files up (the original's
 * `get_di_kernelinfo`): across pockets the lexically greatest version name wins.
 */
export function diKernelInfo(doc: ProductsDocument): DiKernelInfo {
  const out: DiKernelInfo = {};
  for (const product of Object.values(doc.products)) {
    const release = String(product['release']);
    const arch = String(product['arch']);
    for (const [diVersion, version] of Object.entries(product.versions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const raw of Object.values(version.items)) {
        const item = raw as DiItem;
        const slot = ((((out[release] ??= {})[arch] ??= {})[item['kernel-flavor']] ??= {})[item['kernel-release']] ??= {});
        let files = slot[item['image-format']];
        if (!files || files.diVersion < diVersion) slot[item['image-format']] = files = { diVersion, pocket: scalarText(version['pocket'] ?? ''), dtbs: {} };
        if (files.diVersion !== diVersion) continue;
        if (item.ftype === 'kernel') files.kernel = item;
        else if (item.ftype === 'initrd') files.initrd = item;
        else files.dtbs[item.basename] = item;
      }
    }
  }
  return out;
}

export interface DiLookup {
  release: string;
  arch: string;
  flavor: string;
  krel: string;
  /** khdata `di-format`, default `default`. */
  format?: string;
  /** khdata `dtb`, when the kernel needs one. */
  dtb?: string;
}

/** The kernel + initrd (+ dtb) a build publishes as di-kernel/di-initrd/di-dtb; throws if missing. */
export function lookupDiKernel(info: DiKernelInfo, q: DiLookup): { diVersion: string; kernel: DiItem; initrd: DiItem; dtb?: DiItem } {
  const fmt = q.format ?? 'default';
  const what = `${q.release}/${q.arch} flavor ${q.flavor} kernel-release ${q.krel} format ${fmt}`;
  const files = info[q.release]?.[q.arch]?.[q.flavor]?.[q.krel]?.[fmt];
  if (!files?.kernel || !files.initrd) throw new DiKernelInfoMissingError(what);
  const dtb = q.dtb ? files.dtbs[q.dtb] : undefined;
  if (q.dtb && !dtb) throw new DiKernelInfoMissingError(`${what} dtb ${q.dtb}`);
  return { diVersion: files.diVersion, kernel: files.kernel, initrd: files.initrd, ...(dtb ? { dtb } : {}) };
}

/** Downloads one d-i file to `<root>/<dest>` with size and checksum verification; returns the absolute path. */
export async function downloadDiFile(client: HttpClient, item: DiItem, root: string, dest: string = item.path): Promise<string> {
  const abs = resolveInside(root, dest, item.url);
  try {
    await client.download(item.url, abs, { size: item.size, checksums: { sha256: item.sha256, ...(item.md5 ? { md5: item.md5 } : {}) } });
  } catch (err) {
    if (isNotFound(err)) throw new DiKernelInfoMissingError(`${item.url} (HTTP ${err.status})`);
    throw err;
  }
  return abs;
}
