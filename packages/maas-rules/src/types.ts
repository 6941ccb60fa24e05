import type { Readable } from 'node:stream';
import type { IndexDocument, ProductsDocument } from '@meph/simplestreams';

/** A MAAS importer generation: '3.7' = the legacy importer of MAAS ≤ 3.7, '3.8' = the new one. */
export type MaasVersion = '3.7' | '3.8';

export type MaasSeverity = 'fatal' | 'error' | 'warning';

/** One reason MAAS would not (fully) accept a stream. */
export interface MaasFinding {
  /** Rule id, `<doc rule>-<§3 number>`, e.g. `R-FIELDS-09` (see MAAS_RULES, docs/maas-rules.md). */
  rule: string;
  severity: MaasSeverity;
  /** Which importers are affected. */
  maas: MaasVersion[];
  /** Products file or index the finding is about (path relative to the mirror root). */
  file?: string;
  productId?: string;
  version?: string;
  item?: string;
  /** What is wrong, precisely. */
  message: string;
  /** What MAAS does about it, in operator words. */
  consequence: string;
}

/** The parts of a stream source the checks use; `StreamSource` of the reader satisfies it. */
export interface MaasStreamSource {
  exists?(relPath: string): Promise<boolean>;
  readText?(relPath: string): Promise<string>;
  openData?(relPath: string): Promise<Readable>;
}

export interface MaasProductsFile {
  /** Path relative to the mirror root, as listed in the index (or the file name). */
  path: string;
  doc: ProductsDocument;
  signature?: unknown;
}

/**
 * Documents to check. Structurally a subset of the reader's `LoadedStream`
 * (`{ source, indexPath?, index?, products }`), so a loaded stream can be passed as is.
 */
export interface MaasDocuments {
  index?: IndexDocument;
  /** Path of the index relative to the mirror root, e.g. `streams/v1/index.sjson`. */
  indexPath?: string;
  products: MaasProductsFile[];
}

export interface MaasStreamInput extends MaasDocuments {
  source?: MaasStreamSource;
}

export interface MaasCheckOptions {
  /** Report only findings that affect this importer. Default 'both'. */
  maasVersion?: MaasVersion | 'both';
  /** Overrides `source.exists` (signed/unsigned pairing, missing files). */
  exists?: (relPath: string) => Promise<boolean>;
  /** Overrides `source.readText` (raw text: signature armor, duplicate keys, unsigned twins). */
  readText?: (relPath: string) => Promise<string>;
  /** Overrides `source.openData`. */
  openData?: (relPath: string) => Promise<Readable>;
  /**
   * Rules 14 and 17: read every item file of the newest version of each product (size,
   * checksums, bootloader archive members). Needs `openData`. Default false.
   */
  checkData?: boolean;
  /** Parallel data reads. Default 4. */
  concurrency?: number;
  /** The same stream as previously published (rule 18: published files never change). */
  previous?: MaasDocuments;
  /**
   * Rule 2: binary keyrings (as given to MAAS) to run `gpgv --keyring=<file> -` with on every
   * clearsigned document, exactly as both importers do. Needs gpgv installed.
   */
  gpgvKeyrings?: string[];
  /** Rule 1: the stream must be offered signed (`streams/v1/index.sjson`). Default false. */
  requireSigned?: boolean;
  /**
   * Rule 29: the Ubuntu release MAAS commissions with (codename, e.g. `noble`). Default: the
   * value each checked MAAS version hard-codes (MAAS_COMMISSIONING_RELEASE: noble for 3.7 and 3.8).
   */
  commissioningRelease?: string;
  signal?: AbortSignal;
}
