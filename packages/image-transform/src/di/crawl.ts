import { crawlInstallers, diKernelInfo, type CrawlEvent, type DiKernelInfo } from '@meph/di-crawler';
import type { HttpClient } from '@meph/http';
import type { ProductsDocument } from '@meph/simplestreams';
import type { DiCrawlEvent } from '../events.js';
import { DiUnavailableError } from '../errors.js';
import type { DiSource } from './source.js';

export interface CrawlDiOptions {
  source: DiSource;
  releases: readonly string[];
  arches: readonly string[];
  /** Also crawl `<release>-proposed`. */
  proposed: boolean;
  client: HttpClient;
  onEvent?: (e: DiCrawlEvent) => void;
}

/**
 * Crawls the d-i installers of `releases` × `arches` (each arch from its archive), verified
 * with the source's keyrings, and indexes them for lookups. A release/arch for which nothing
 * could be crawled because of an error (archive unreachable, bad signature) is a
 * DiUnavailableError naming the archive; other crawl errors are warnings.
 */
export async function crawlDiKernels(options: CrawlDiOptions): Promise<DiKernelInfo> {
  const emit = options.onEvent ?? (() => {});
  const { createVerifier } = await import('@meph/signer');
  const verifier = await createVerifier({ keyrings: options.source.keyrings });
  const byArchive = new Map<string, string[]>();
  for (const arch of options.arches) {
    const archive = options.source.archiveFor(arch);
    byArchive.set(archive, [...(byArchive.get(archive) ?? []), arch]);
  }
  const merged: ProductsDocument = { format: 'products:1.0', content_id: 'com.ubuntu.installer:released:netboot', products: {} };
  for (const [archive, arches] of byArchive) {
    emit({ type: 'step', step: `d-i crawl ${archive}`, state: 'start' });
    const started = Date.now();
    const { doc, errors } = await crawlInstallers({
      archive,
      releases: options.releases,
      arches,
      proposed: options.proposed,
      client: options.client,
      verifier,
      strict: false,
      onEvent: (e: CrawlEvent) => emit({ ...e }),
    });
    const found = new Set(Object.values(doc.products).map((p) => `${String(p['release'])}/${String(p['arch'])}`));
    const missing = options.releases.flatMap((r) => arches.map((a) => `${r}/${a}`)).filter((k) => !found.has(k));
    if (missing.length && errors.length) {
      throw new DiUnavailableError(archive, `cannot crawl the installer for ${missing.join(', ')}: ${errors[0]!.message}`, { cause: errors[0] });
    }
    for (const e of errors) emit({ type: 'warning', message: `d-i crawl: ${e.message}` });
    Object.assign(merged.products, doc.products);
    emit({ type: 'step', step: `d-i crawl ${archive}`, state: 'done', seconds: (Date.now() - started) / 1000 });
  }
  return diKernelInfo(merged);
}
