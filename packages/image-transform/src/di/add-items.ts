/**
 * Adds d-i netboot kernels/initrds (and dtbs) to freshly built products, as the original's
 * `create_version` does with `include_di`: items `di-kernel`, `di-initrd`, `di-dtb` carrying
 * `di_version`, files at `<release>/<arch>/di/<di_version>/<krel>/<flavor>/di-<x><suffix>`,
 * downloaded from the archive with size + sha256 verification.
 */
import type { Item, ProductsDocument } from '@meph/simplestreams';
import { downloadDiFile, lookupDiKernel, type DiItem, type DiKernelInfo } from '@meph/di-crawler';
import type { HttpClient } from '@meph/http';

export interface PlannedKernelLine {
  krel: string;
  flavor: string;
  khdata: { suffix?: string; diFormat?: string; dtb?: string };
}

function lookup(info: DiKernelInfo, release: string, arch: string, line: PlannedKernelLine): ReturnType<typeof lookupDiKernel> {
  return lookupDiKernel(info, {
    release,
    arch,
    flavor: line.flavor,
    krel: line.krel,
    ...(line.khdata.diFormat ? { format: line.khdata.diFormat } : {}),
    ...(line.khdata.dtb ? { dtb: line.khdata.dtb } : {}),
  });
}

/** Throws DiKernelInfoMissingError unless every kernel line has its d-i files (check before converting). */
export function checkDiKernels(info: DiKernelInfo, release: string, arch: string, lines: Iterable<PlannedKernelLine>): void {
  for (const line of lines) lookup(info, release, arch, line);
}

const PER_ITEM = new Set(['ftype', 'path', 'sha256', 'size', 'md5', 'kpackage']);

/**
 * Adds the d-i items to every product of `expanded` (one version each) in place. `kernels`
 * maps product id → its kernel line. Files shared by several products are fetched once.
 */
export async function addDiItems(options: {
  expanded: ProductsDocument;
  kernels: ReadonlyMap<string, PlannedKernelLine>;
  info: DiKernelInfo;
  client: HttpClient;
  outputDir: string;
  release: string;
  arch: string;
}): Promise<string[]> {
  const fetched = new Map<string, Promise<string>>();
  const fetchOnce = (item: DiItem, dest: string): Promise<string> => {
    let p = fetched.get(dest);
    if (!p) fetched.set(dest, (p = downloadDiFile(options.client, item, options.outputDir, dest)));
    return p;
  };
  for (const [pid, product] of Object.entries(options.expanded.products)) {
    const line = options.kernels.get(pid);
    if (!line) continue;
    const hit = lookup(options.info, options.release, options.arch, line);
    const suffix = line.khdata.suffix ?? '';
    for (const version of Object.values(product.versions)) {
      const base = Object.values(version.items).find((i) => i.ftype === 'boot-kernel');
      if (!base) continue;
      const common = Object.fromEntries(Object.entries(base).filter(([k]) => !PER_ITEM.has(k)));
      const dir = `${options.release}/${options.arch}/di/${hit.diVersion}/${line.krel}/${line.flavor}`;
      const parts: Array<[string, DiItem]> = [
        ['di-kernel', hit.kernel],
        ['di-initrd', hit.initrd],
        ...(hit.dtb ? ([['di-dtb', hit.dtb]] as Array<[string, DiItem]>) : []),
      ];
      for (const [name, di] of parts) {
        const path = `${dir}/${name}${suffix}`;
        await fetchOnce(di, path);
        const item: Item = { ...common, ftype: name, path, sha256: di.sha256, size: di.size, di_version: hit.diVersion };
        version.items[name] = item;
      }
    }
  }
  await Promise.all(fetched.values());
  return [...fetched.keys()];
}
