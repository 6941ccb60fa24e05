import { isDeepStrictEqual } from 'node:util';
import { parseJson as readJson, type LoadedStream } from '@meph/simplestreams';
import type { MaasCheckOptions, MaasDocuments, MaasFinding, MaasStreamInput, MaasVersion } from './types.js';
import { BOTH, FindingList } from './rules.js';
import { checkProductsDocument, type CheckedProduct } from './check-products.js';
import { checkIndexDocument, indexEntries, type IndexTree } from './check-index.js';
import { checkClearsignedLayout, looksClearsigned } from './signed-layout.js';
import { findDuplicateKeys } from './duplicate-keys.js';
import { checkCommissioningRelease, checkImmutable, checkIndexProductList, checkUniqueImages } from './check-stream.js';
import { isRecord, type Rec } from './kinds.js';
import { maasPathProblem } from './paths.js';
import { runGpgv } from './gpgv.js';
import { GpgvUnavailableError } from './errors.js';

const DEFAULT_INDEX = 'streams/v1/index.json';

/** Raw file access, each text read once. */
class Files {
  private readonly texts = new Map<string, Promise<string | undefined>>();
  readonly exists?: (relPath: string) => Promise<boolean>;
  private readonly read?: (relPath: string) => Promise<string>;

  /** Clearsigned documents already given to gpgv. */
  readonly gpgvDone = new Set<string>();
  /** Documents the reader has parsed already (plain JSON need not be parsed twice). */
  readonly parsed = new Map<string, unknown>();
  /** Raw documents read and judged (rules 2/3), by path. */
  readonly raw = new Map<string, Promise<RawDocument | undefined>>();

  constructor(
    stream: MaasStreamInput,
    readonly options: MaasCheckOptions,
  ) {
    const src = stream.source;
    const exists = options.exists ?? src?.exists?.bind(src);
    const read = options.readText ?? src?.readText?.bind(src);
    for (const p of stream.products) this.parsed.set(p.path, p.doc);
    if (stream.index !== undefined) this.parsed.set(stream.indexPath ?? DEFAULT_INDEX, stream.index);
    if (exists) this.exists = exists;
    if (read) this.read = read;
  }

  get canRead(): boolean {
    return this.read !== undefined;
  }

  /** The file's text, or undefined when it cannot be read (absent, or no reader given). */
  text(relPath: string): Promise<string | undefined> {
    let t = this.texts.get(relPath);
    if (!t) {
      t = this.read ? this.read(relPath).catch(() => undefined) : Promise.resolve(undefined);
      this.texts.set(relPath, t);
    }
    return t;
  }

  async present(relPath: string): Promise<boolean | undefined> {
    if (!this.exists) return undefined;
    try {
      return await this.exists(relPath);
    } catch {
      return false;
    }
  }
}

const swapExt = (p: string) => (p.endsWith('.sjson') ? p.replace(/\.sjson$/, '.json') : p.replace(/\.json$/, '.sjson'));
const stripExt = (p: string) => p.replace(/\.s?json$/, '');

function parseJson(text: string, source: string): { value?: unknown; error?: string } {
  try {
    return { value: readJson(text, source) };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Reads a document as MAAS would reach it and reports rule 2/3 problems of its raw form.
 * Returns the JSON value and the JSON text (payload of a clearsigned file), when readable.
 */
function readRaw(list: FindingList, files: Files, path: string): Promise<RawDocument | undefined> {
  let raw = files.raw.get(path);
  if (!raw) {
    raw = readRawOnce(list, files, path);
    files.raw.set(path, raw);
  }
  return raw;
}

interface RawDocument {
  value?: unknown;
  /** The JSON text (a clearsigned file's payload). */
  json?: string;
}

async function readRawOnce(list: FindingList, files: Files, path: string): Promise<RawDocument | undefined> {
  const text = await files.text(path);
  if (text === undefined) return undefined;
  if (path.endsWith('.sjson')) {
    await verifyWithGpgv(list, files, path, text);
    const layout = checkClearsignedLayout(text);
    for (const p of layout.problems) {
      list.report('R-SIG-02', { file: path, maas: p.maas, message: `${path} ${p.message}`, ...(p.severity ? { severity: p.severity } : {}) });
    }
    if (layout.payload === undefined) return {};
    const parsed = parseJson(layout.payload, path);
    if (parsed.error !== undefined) {
      list.report('R-SIG-02', { file: path, maas: BOTH, message: `the signed text is not valid JSON: ${parsed.error}` });
      return {};
    }
    return { value: parsed.value, json: layout.payload };
  }
  if (looksClearsigned(text)) {
    list.report('R-SIG-03', {
      file: path,
      maas: BOTH,
      message: `${path} is clearsigned but has a .json name; unsigned files must be plain JSON`,
      detail: 'An unsigned boot source cannot parse it.',
    });
    return {};
  }
  const known = files.parsed.get(path);
  if (known !== undefined) return { value: known, json: text };
  const parsed = parseJson(text, path);
  if (parsed.error !== undefined) {
    list.report('R-SIG-03', { file: path, maas: BOTH, message: `not plain JSON: ${parsed.error}` });
    return {};
  }
  return { value: parsed.value, json: text };
}

/** Rule 2's last clause: gpgv with the keyring MAAS is given accepts the document. */
async function verifyWithGpgv(list: FindingList, files: Files, path: string, text: string): Promise<void> {
  const keyrings = files.options.gpgvKeyrings;
  if (!keyrings?.length || files.gpgvDone.has(path)) return;
  files.gpgvDone.add(path);
  let result;
  try {
    result = await runGpgv(text, keyrings, files.options.signal);
  } catch (err) {
    files.options.signal?.throwIfAborted();
    throw new GpgvUnavailableError(err);
  }
  if (!result.ok) {
    list.report('R-SIG-02', {
      file: path,
      maas: BOTH,
      message: `gpgv with ${keyrings.join(', ')} does not accept ${path}: ${result.detail}`,
      detail: 'MAAS runs the same gpgv check; give it a binary keyring (gpg --export, not --armor) holding the signing key.',
    });
  }
}

/** The index the stream was loaded from, plus its signed/unsigned twin when that exists. */
async function collectIndexTrees(list: FindingList, stream: MaasStreamInput, files: Files): Promise<IndexTree[]> {
  if (stream.index === undefined) return [];
  const path = stream.indexPath ?? DEFAULT_INDEX;
  const trees: IndexTree[] = [{ path, value: stream.index, signed: path.endsWith('.sjson') }];
  if (trees[0]!.signed) await readRaw(list, files, path); // layout of the signed index itself
  const twin = swapExt(path);
  if (twin !== path && (await files.present(twin)) && files.canRead) {
    const raw = await readRaw(list, files, twin);
    if (raw?.value !== undefined) trees.push({ path: twin, value: raw.value, signed: twin.endsWith('.sjson') });
  }
  return trees;
}

function normaliseSignedIndex(value: unknown): unknown {
  if (!isRecord(value) || !isRecord(value['index'])) return value;
  const index: Rec = {};
  for (const [k, e] of Object.entries(value['index'])) {
    index[k] = isRecord(e) && typeof e['path'] === 'string' ? { ...e, path: e['path'].replace(/\.sjson$/, '.json') } : e;
  }
  return { ...value, index };
}

/** Rules 2, 3 and 5 for the files each index lists. */
async function checkReferencedFiles(list: FindingList, trees: IndexTree[], files: Files): Promise<void> {
  for (const tree of trees) {
    for (const [key, entry] of indexEntries(tree.value)) {
      const path = entry['path'];
      if (typeof path !== 'string' || maasPathProblem(path)?.maas.includes('3.7')) continue;
      const present = await files.present(path);
      if (present === false) {
        list.report('R-IDX-05', {
          file: tree.path,
          maas: BOTH,
          message: `index entry "${key}" points at ${path}, which does not exist`,
        });
        continue;
      }
      if (!files.canRead) continue;
      const raw = await readRaw(list, files, path);
      if (raw?.value === undefined || !tree.signed || !path.endsWith('.sjson')) continue;
      const twin = swapExt(path);
      if (!(await files.present(twin))) continue;
      const unsigned = await readRaw(list, files, twin);
      if (unsigned?.value !== undefined && !isDeepStrictEqual(raw.value, unsigned.value)) {
        list.report('R-SIG-02', {
          file: path,
          maas: BOTH,
          message: `the signed ${path} and the unsigned ${twin} hold different metadata`,
          consequence: 'MAAS sees different images depending on whether the boot source URL names index.sjson or index.json; one of them is stale. Sign the stream again.',
        });
      }
    }
  }
  const signed = trees.find((t) => t.signed);
  const unsigned = trees.find((t) => !t.signed);
  if (signed && unsigned && !isDeepStrictEqual(normaliseSignedIndex(signed.value), unsigned.value)) {
    list.report('R-SIG-02', {
      file: signed.path,
      maas: BOTH,
      message: `${signed.path} and ${unsigned.path} list different products files or metadata (beyond .sjson/.json)`,
      consequence: 'MAAS sees different images depending on whether the boot source URL names index.sjson or index.json. Sign the stream again.',
    });
  }
}

function findEntry(index: unknown, path: string): { key: string; entry: Rec } | undefined {
  for (const [key, entry] of indexEntries(index)) {
    if (typeof entry['path'] === 'string' && stripExt(entry['path']) === stripExt(path)) return { key, entry };
  }
  return undefined;
}

function restrict(findings: MaasFinding[], version: MaasVersion | 'both' | undefined): MaasFinding[] {
  if (version === undefined || version === 'both') return findings;
  return findings.filter((f) => f.maas.includes(version));
}

/**
 * Checks a stream against what MAAS's image importers accept, and says what MAAS would do
 * about each problem.
 *
 * ## MAAS acceptance checks
 * One rule per assertion of maas-acceptance.md §3, id `<doc rule>-<§3 number>`; severity
 * fatal = the whole boot source fails (§3 S1), error = images never become ready or are
 * skipped/mis-mapped (S2, S3), warning = degraded metadata (S4). Both importers are judged: the
 * legacy one of MAAS ≤ 3.7 (python-simplestreams, fields inherited from any level) and the one of
 * MAAS 3.8 (strict models, no inheritance); `finding.maas` says which is affected.
 * - R-IDX-01 index: `format` index:1.0, `updated` present, non-empty `index`; `index.sjson`
 *   present when `requireSigned`.
 * - R-SIG-02 clearsigned files: BEGIN line at byte 0, exactly one `Hash:` armor header then an
 *   empty line, no `{` in headers, no dash-escaped lines, a v4 signature packet with an
 *   algorithm GnuPG knows, payload equal to the unsigned twin; with `gpgvKeyrings`, `gpgv`
 *   accepts it as MAAS runs it.
 * - R-SIG-03 `index.sjson` lists `.sjson`, `index.json` lists `.json`; `.json` files are plain JSON.
 * - R-IDX-04 index entries: `path`, `format` products:1.0, `updated`, `products` list, datatype
 *   image-ids/image-downloads, no `name` key.
 * - R-IDX-05 every entry is an existing MAAS products file (no nested index, no foreign stream).
 * - R-PROD-06 products file: `format`, `content_id` (= index key), `datatype`, `updated`, non-empty
 *   `products`.
 * - R-PROD-07 one kind (bootloader / multi-file / single-file) per file; no root-tgz beside kernels.
 * - R-PROD-08 versions and items present; no `product_name` / `version_name` keys; no item named
 *   like a version field.
 * - R-FIELDS-09 required product fields on the product itself, as strings (`subarches` a CSV).
 * - R-ITEMS-10 item keys each version of a kind needs (all versions, not only the newest).
 * - R-FIELDS-11 `ftype`, `path`, `sha256`, `size` (and bootloader `src_*`) on each item itself.
 * - R-DATE-12 `updated` RFC 2822 with numeric zone; `support_eol` / `support_esm_eol` YYYY-MM-DD.
 * - R-URL-13 relative, URL-safe paths; no `..`, no scheme, no `:` in the first segment.
 * - R-DL-14 sha256 is 64 lowercase hex (md5/sha512 well-formed); with `checkData`, every file of
 *   the newest version exists with the listed size and checksums.
 * - R-ITEMS-15 ftypes MAAS knows; image item key = ftype; `manifest`; bootloaders `archive.tar.xz`.
 * - R-ITEMS-16 item basenames unique per version, ≤ 255 characters.
 * - R-DL-17 (with `checkData`) bootloader archives: xz tar, served files at the root, nothing
 *   escaping.
 * - R-VER-18 (with `previous`) published items keep their sha256 and size.
 * - R-LIM-19 32-character columns; os/release/arch/subarch non-empty without `/`.
 * - R-FILTER-20 `:v2:`/`:v3:`/`:v3+platform:` in image product ids, `:1:` in bootloader ids.
 * - R-FILTER-21 bootloader (type, os, arch) one of the four MAAS downloads (warning).
 * - R-KFLAVOR-22 `kflavor` on multi-file products; `subarch` parses and holds no flavour.
 * - R-KFLAVOR-23 the GA generic kernel lists `generic` in `subarches` (the own `subarch` need not be listed).
 * - R-VER-24 version names sort chronologically as plain strings.
 * - R-ITEMS-25 exactly one of squashfs / root-image.gz.
 * - R-SEL-26 `os` a MAAS OS; Ubuntu release a lowercase codename, version YY.MM = ga-<version>.
 * - R-KFLAVOR-27 `kpackage` on boot-kernel items.
 * - R-FIELDS-28 LTS: release_title ends in LTS, support_eol set; release_codename present.
 * - R-FILTER-29 the release the checked MAAS version commissions with (noble for 3.7 and 3.8, or
 *   `commissioningRelease`) offered for amd64.
 * - R-IDX-30 index product lists = file keys; images unique across the stream; no duplicate
 *   JSON keys.
 *
 * `stream` is the reader's `LoadedStream` (or any object of that shape); its `source` is used
 * for raw text (signature armor, twins, duplicate keys), `exists` and `openData` when present.
 * Without an index (a single products file) the index rules are skipped.
 */
export async function checkMaasStream(stream: LoadedStream | MaasStreamInput, options: MaasCheckOptions = {}): Promise<MaasFinding[]> {
  const list = new FindingList();
  const files = new Files(stream, options);

  const trees = await collectIndexTrees(list, stream, files);
  for (const tree of trees) checkIndexDocument(list, tree);
  if (options.requireSigned && stream.index !== undefined && !trees.some((t) => t.signed)) {
    list.report('R-IDX-01', {
      file: stream.indexPath ?? DEFAULT_INDEX,
      maas: BOTH,
      message: 'the stream has no streams/v1/index.sjson (it is not signed)',
      detail: 'MAAS looks for index.sjson unless the boot source URL names index.json (and 3.8 then needs keyring verification switched off). Sign the stream.',
    });
  }
  await checkReferencedFiles(list, trees, files);

  const products: CheckedProduct[] = [];
  for (const file of stream.products) {
    const match = stream.index === undefined ? undefined : findEntry(stream.index, file.path);
    products.push(...checkProductsDocument(list, file.path, file.doc, match?.key));
    if (match) checkIndexProductList(list, stream.indexPath ?? DEFAULT_INDEX, match.key, match.entry, file.doc);
  }

  // rule 30: duplicate keys in any document read
  const texts = new Set<string>([...trees.map((t) => t.path), ...stream.products.map((p) => p.path)]);
  for (const tree of trees) for (const [, e] of indexEntries(tree.value)) if (typeof e['path'] === 'string') texts.add(e['path']);
  for (const path of texts) {
    const raw = files.canRead ? await readRaw(list, files, path) : undefined;
    if (raw?.json === undefined) continue; // unreadable: rules 2/3 say why
    const dups = findDuplicateKeys(raw.json);
    if (dups.length > 0) {
      list.report('R-IDX-30', {
        file: path,
        maas: BOTH,
        message: `${path} has duplicate JSON keys: ${dups.slice(0, 5).join('; ')}${dups.length > 5 ? '; …' : ''}`,
        consequence: 'MAAS keeps only the last copy of each; whatever the first copy described is silently lost.',
      });
    }
  }

  checkUniqueImages(list, products);
  const versions: MaasVersion[] = options.maasVersion === '3.7' || options.maasVersion === '3.8' ? [options.maasVersion] : ['3.7', '3.8'];
  checkCommissioningRelease(list, products, versions, options.commissioningRelease);
  if (options.previous) checkImmutable(list, products, options.previous);

  if (options.checkData) {
    const openData = options.openData ?? stream.source?.openData?.bind(stream.source);
    if (!openData) throw new TypeError('checkMaasStream: checkData needs openData (from the stream source or the options)');
    const exists = files.exists;
    const { checkItemData } = await import('./check-data.js'); // tar + xz only when data is read
    await checkItemData(list, products, exists ? { openData, exists } : { openData }, {
      concurrency: options.concurrency ?? 4,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
  return restrict(list.findings, options.maasVersion);
}

/**
 * The same checks on documents without a stream source: `{ index?, indexPath?, products }`
 * (for tests and callers that hold parsed documents). Raw-text rules need `options.readText`.
 */
export function checkMaasDocuments(documents: MaasDocuments, options: MaasCheckOptions = {}): Promise<MaasFinding[]> {
  return checkMaasStream({ ...documents }, options);
}

/** True for findings that stop MAAS from using something (fatal or error). */
export function isBlocking(finding: MaasFinding): boolean {
  return finding.severity !== 'warning';
}

