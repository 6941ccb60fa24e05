import { serializeJson, type ProductsDocument } from '@meph/simplestreams';
import { checkMirrorOptions, mirrorDocuments, mirrorHttpClient, type MirrorOptions, type MirrorResult } from '@meph/simplestreams/mirror';
import { crawlInstallers, DI_CONTENT_ID, type CrawlEvent, type CrawlOptions, type DiItem } from './crawl.js';

/** Where the original's netboot-mirror writes the crawled products (it writes no index). */
export const NETBOOT_PRODUCTS_PATH = `streams/v1/${DI_CONTENT_ID}.json`;

export interface NetbootMirrorOptions extends MirrorOptions {
  /** Archive root per arch (Ubuntu: archive for x86, ports for the rest). */
  archiveFor: (arch: string) => string;
  releases: readonly string[];
  arches: readonly string[];
  proposed?: boolean;
  crawl?: Pick<CrawlOptions, 'verifier' | 'allowUnverified' | 'distroInfo' | 'pockets'>;
  onCrawlEvent?: (e: CrawlEvent) => void;
}

/**
 * `netboot-mirror`: crawls the debian-installer netboot files of the given releases and arches
 * (verified through the archive's signed Release files) and mirrors the ones that pass the
 * filters into `outDir` with the same writer, order and bookkeeping as `mirror`
 * (`streams/v1/com.ubuntu.installer:released:netboot.json`, `.data/…`, `files/…`).
 */
export async function mirrorNetboot(outDir: string, options: NetbootMirrorOptions): Promise<MirrorResult> {
  checkMirrorOptions(options);
  const http = options.http ?? mirrorHttpClient(options);
  try {
    const byArchive = new Map<string, string[]>();
    for (const arch of options.arches) {
      const a = options.archiveFor(arch);
      byArchive.set(a, [...(byArchive.get(a) ?? []), arch]);
    }
    const doc: ProductsDocument = { format: 'products:1.0', content_id: DI_CONTENT_ID, products: {} };
    for (const [archive, arches] of byArchive) {
      const crawled = await crawlInstallers({
        archive,
        releases: options.releases,
        arches,
        proposed: Boolean(options.proposed),
        client: http,
        ...options.crawl,
        ...(options.onCrawlEvent ? { onEvent: options.onCrawlEvent } : {}),
      });
      Object.assign(doc.products, crawled.doc.products);
    }
    return await mirrorDocuments(
      outDir,
      { contents: [{ doc, path: NETBOOT_PRODUCTS_PATH, raw: serializeJson(doc), label: `netboot crawl of ${[...byArchive.keys()].join(', ')}` }], locate: (c) => (c.item as DiItem).url },
      { ...options, http },
    );
  } finally {
    if (!options.http) http.close();
  }
}
