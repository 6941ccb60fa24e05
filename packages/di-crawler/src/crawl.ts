import { createHash } from 'node:crypto';
import { ConnectionError, createHttpClient, HttpTimeoutError, isNotFound, type HttpClient, type HttpClientOptions, type HttpEvent } from '@meph/http';
import type { Item, ProductsDocument, SignatureVerifier, Version } from '@meph/simplestreams';
import { parseChecksumList, parseReleaseSha256, type ReleaseEntry } from './checksums.js';
import { classifyPath, isNetbootPath, itemKey, localPath } from './classify.js';
import { knownCodenames, loadDistroInfo, numericVersion, type DistroRelease } from './distro-info.js';
import { NameCollisionError, PathCollisionError, UnverifiedChecksumsError } from './errors.js';
import { parseDirectoryListing } from './listing.js';

export const DI_CONTENT_ID = 'com.ubuntu.installer:released:netboot';
/** Installer version directories (`20101020ubuntu630`, `20230607+deb12u15`); `current` is skipped. */
const VERSION_DIR = /^20\d{6}[A-Za-z0-9.+~-]*$/;

/** One d-i file as the crawler publishes it (the original's item fields). */
export interface DiItem extends Item {
  ftype: 'kernel' | 'initrd' | 'dtb';
  path: string;
  sha256: string;
  size: number;
  md5?: string;
  'image-format': string;
  'initrd-flavor': string;
  'kernel-flavor': string;
  'kernel-release': string;
  basename: string;
  pubdate?: string;
  /** Where the file was found. */
  url: string;
}

export type CrawlEvent =
  | HttpEvent
  | { type: 'di-suite'; suite: string; arch: string; versions: string[]; via: 'Release' | 'listing' }
  | { type: 'di-suite-missing'; suite: string; url: string }
  | { type: 'di-version'; product: string; version: string; pocket: string; files: number; verifiedBy: string }
  | { type: 'di-error'; suite: string; arch: string; version?: string; message: string }
  | { type: 'di-unverified'; url: string; message: string };

export interface CrawlOptions {
  /** Archive root, the directory holding `dists/` (e.g. `http://deb.debian.org/debian`). A trailing `/dists` is accepted. */
  archive: string;
  releases: readonly string[];
  arches: readonly string[];
  /** Also crawl `<release>-proposed`. */
  proposed?: boolean;
  /** Pockets to crawl; default `['', '-updates']` (+ `-proposed`). */
  pockets?: readonly string[];
  /** Verifies InRelease / Release.gpg / SHA256SUMS.gpg. Required unless allowUnverified. */
  verifier?: SignatureVerifier;
  /** Accept checksum lists no signature covers (a warning event is emitted). */
  allowUnverified?: boolean;
  /** Shared client (so limits span several crawls); otherwise one is made from httpOptions. */
  client?: HttpClient;
  httpOptions?: HttpClientOptions;
  /** distro-info rows (for `<codename>-` prefixes and release tags); default: the host's. */
  distroInfo?: readonly DistroRelease[];
  /** Throw the first error after the crawl instead of returning it in `errors`. Default true. */
  strict?: boolean;
  onEvent?: (event: CrawlEvent) => void;
}

export interface CrawlResult {
  doc: ProductsDocument;
  errors: Error[];
  stats: { requests: number; retries: number; files: number };
}

function joinUrl(base: string, rel: string): string {
  return `${base.replace(/\/+$/, '')}/${rel}`;
}

function pocketName(pocket: string): string {
  return pocket.replace(/^-/, '') || 'release';
}
function pocketOf(v: Version): string {
  return v['pocket'] === 'release' ? '' : `-${String(v['pocket'])}`;
}

/** A fetch whose 404/410 means "not there" rather than an error. */
function orMissing<T>(p: Promise<T>): Promise<T | undefined> {
  return p.catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

interface SuiteIndex {
  /** Release SHA256 entries, when the suite has a verified Release. */
  entries?: Map<string, ReleaseEntry>;
  verifiedBy?: string;
}

/** Crawls installer trees and returns the intermediate d-i products document. */
export async function crawlInstallers(options: CrawlOptions): Promise<CrawlResult> {
  const archive = options.archive.replace(/\/+$/, '').replace(/\/dists$/, '');
  const client = options.client ?? createHttpClient({ ...options.httpOptions, onEvent: (e) => options.onEvent?.(e) });
  const ownClient = !options.client;
  const distro = options.distroInfo ?? loadDistroInfo();
  const codenames = knownCodenames(distro);
  const pockets = options.pockets ?? ['', '-updates', ...(options.proposed ? ['-proposed'] : [])];
  const emit = (e: CrawlEvent): void => options.onEvent?.(e);
  const errors: Error[] = [];
  const doc: ProductsDocument = { format: 'products:1.0', content_id: DI_CONTENT_ID, products: {} };
  const paths = new Map<string, { sha256: string; url: string }>();
  let files = 0;

  const verifyDetached = async (data: string, sigUrl: string, what: string): Promise<string | undefined> => {
    const sig = await orMissing(client.getText(sigUrl));
    if (sig === undefined) return undefined;
    if (!options.verifier) throw new UnverifiedChecksumsError(what, 'has a signature but no keyring was given');
    try {
      const v = await options.verifier.verifyDetached(data, sig, sigUrl);
      return `${sigUrl.split('/').pop()} (${v.fingerprint})`;
    } catch (err) {
      throw new UnverifiedChecksumsError(what, `signature ${sigUrl} does not verify: ${(err as Error).message}`, err);
    }
  };

  const loadSuite = async (suite: string): Promise<SuiteIndex> => {
    const base = joinUrl(archive, `dists/${suite}`);
    const inRelease = await orMissing(client.getText(`${base}/InRelease`));
    let payload: string | undefined;
    let verifiedBy: string | undefined;
    if (inRelease !== undefined) {
      if (options.verifier) {
        try {
          const v = await options.verifier.verifyClearsigned(inRelease, `${base}/InRelease`);
          payload = v.payload;
          verifiedBy = `InRelease (${v.fingerprint})`;
        } catch (err) {
          throw new UnverifiedChecksumsError(`${base}/InRelease`, `signature does not verify: ${(err as Error).message}`, err);
        }
      } else if (!options.allowUnverified) {
        throw new UnverifiedChecksumsError(`${base}/InRelease`, 'cannot be verified without a keyring');
      }
    }
    if (payload === undefined) {
      const release = await orMissing(client.getText(`${base}/Release`));
      if (release === undefined && inRelease === undefined) return {}; // no Release: discover versions from listings
      if (release !== undefined) {
        verifiedBy = await verifyDetached(release, `${base}/Release.gpg`, `${base}/Release`);
        if (verifiedBy) payload = release;
        else if (options.allowUnverified) {
          emit({ type: 'di-unverified', url: `${base}/Release`, message: 'no Release.gpg; using it unverified' });
          payload = release;
        }
      }
    }
    if (payload === undefined) return {};
    return { entries: parseReleaseSha256(payload, `${base}/InRelease`), ...(verifiedBy ? { verifiedBy } : {}) };
  };

  /** Version directories for one arch: from the Release entries, else from the HTML listing. */
  const versionsOf = async (suite: string, arch: string, idx: SuiteIndex): Promise<{ versions: string[]; via: 'Release' | 'listing' } | undefined> => {
    const prefix = `main/installer-${arch}/`;
    if (idx.entries) {
      const found = new Set<string>();
      for (const p of idx.entries.keys()) {
        if (!p.startsWith(prefix) || !p.endsWith('/images/SHA256SUMS')) continue;
        const ver = p.slice(prefix.length, -'/images/SHA256SUMS'.length);
        if (VERSION_DIR.test(ver)) found.add(ver);
      }
      if (found.size) return { versions: [...found].sort(), via: 'Release' };
    }
    const html = await orMissing(client.getText(joinUrl(archive, `dists/${suite}/${prefix}`)));
    if (html === undefined) return undefined;
    const versions = parseDirectoryListing(html).filter((e) => e.isDir && VERSION_DIR.test(e.name)).map((e) => e.name).sort();
    return { versions, via: 'listing' };
  };

  /** Checksum list of one version: verified through Release or SHA256SUMS.gpg. */
  const checksumsOf = async (suite: string, arch: string, ver: string, idx: SuiteIndex) => {
    const rel = `main/installer-${arch}/${ver}/images`;
    const imagesUrl = joinUrl(archive, `dists/${suite}/${rel}`);
    const sumsUrl = `${imagesUrl}/SHA256SUMS`;
    const md5Entry = idx.verifiedBy ? idx.entries?.get(`${rel}/MD5SUMS`) : undefined;
    // MD5SUMS only when the signed Release covers it; fetched alongside SHA256SUMS.
    const md5Text = md5Entry ? orMissing(client.getText(`${imagesUrl}/MD5SUMS`)) : Promise.resolve(undefined);
    md5Text.catch(() => undefined);
    const text = await orMissing(client.getText(sumsUrl));
    if (text === undefined) return { imagesUrl, sums: undefined, md5: undefined, verifiedBy: 'none' };
    let verifiedBy: string | undefined;
    const entry = idx.entries?.get(`${rel}/SHA256SUMS`);
    if (entry && idx.verifiedBy) {
      const got = sha256Hex(text);
      if (got !== entry.sha256 || Buffer.byteLength(text) !== entry.size) {
        throw new UnverifiedChecksumsError(sumsUrl, `does not match the signed Release (sha256 ${got}, ${Buffer.byteLength(text)} bytes; Release says ${entry.sha256}, ${entry.size} bytes)`);
      }
      verifiedBy = `Release ${idx.verifiedBy}`;
    } else {
      verifiedBy = await verifyDetached(text, `${sumsUrl}.gpg`, sumsUrl);
    }
    if (!verifiedBy) {
      if (!options.allowUnverified) throw new UnverifiedChecksumsError(sumsUrl, 'is covered neither by a signed Release nor by SHA256SUMS.gpg');
      emit({ type: 'di-unverified', url: sumsUrl, message: 'no signature covers it; using it unverified' });
      verifiedBy = 'unverified';
    }
    const sums = parseChecksumList(text, sumsUrl, 64);
    let md5: Map<string, string> | undefined;
    const md5Body = await md5Text;
    if (md5Entry && md5Body !== undefined && sha256Hex(md5Body) === md5Entry.sha256) md5 = parseChecksumList(md5Body, `${imagesUrl}/MD5SUMS`, 32);
    return { imagesUrl, sums, md5, verifiedBy };
  };

  /** No checksum list: walk the HTML listing (netboot parts only) and hash what is classified. */
  const listFiles = async (imagesUrl: string, dir = ''): Promise<string[]> => {
    const html = await orMissing(client.getText(`${imagesUrl}/${dir}`));
    if (html === undefined) return [];
    const out: string[] = [];
    await Promise.all(
      parseDirectoryListing(html).map(async (e) => {
        const rel = `${dir}${e.name}${e.isDir ? '/' : ''}`;
        if (e.isDir) {
          if (isNetbootPath(rel) || /netboot|device-tree|generic/.test(e.name)) out.push(...(await listFiles(imagesUrl, rel)));
        } else out.push(rel);
      }),
    );
    return out;
  };

  const crawlVersion = async (release: string, rinfo: DistroRelease | undefined, arch: string, suite: string, pocket: string, ver: string, idx: SuiteIndex): Promise<void> => {
    const { imagesUrl, sums, md5, verifiedBy } = await checksumsOf(suite, arch, ver, idx);
    let candidates: Array<{ path: string; sha256?: string }>;
    if (sums) candidates = [...sums].filter(([p]) => isNetbootPath(p)).map(([p, sha256]) => ({ path: p, sha256 }));
    else {
      if (!options.allowUnverified) throw new UnverifiedChecksumsError(`${imagesUrl}/SHA256SUMS`, 'is missing, so the files cannot be verified');
      emit({ type: 'di-unverified', url: `${imagesUrl}/SHA256SUMS`, message: 'missing; listing the directory and hashing the files' });
      candidates = (await listFiles(imagesUrl)).filter(isNetbootPath).map((p) => ({ path: p }));
    }
    const classified = candidates
      .map((c) => ({ ...c, data: classifyPath(c.path, { release, codenames }) }))
      .filter((c): c is typeof c & { data: NonNullable<typeof c.data> } => c.data !== null);
    const items = await Promise.all(
      classified.map(async (c): Promise<DiItem> => {
        const url = `${imagesUrl}/${c.path}`;
        const basename = c.path.split('/').pop()!;
        let sha256 = c.sha256;
        let size: number | undefined;
        const head = await orMissing(client.head(url));
        if (!head) throw new UnverifiedChecksumsError(url, 'is listed in SHA256SUMS but the server answers 404');
        size = head.size;
        if (!sha256 || size === undefined) {
          const h = await orMissing(client.hash(url, ['sha256']));
          if (!h) throw new UnverifiedChecksumsError(url, 'disappeared while crawling');
          sha256 ??= h.sha256!;
          size = h.size;
        }
        const item: DiItem = {
          ...c.data,
          basename,
          path: localPath(release, arch, ver, c.data, basename),
          sha256,
          size,
          url,
        };
        const m = md5?.get(c.path);
        if (m) item.md5 = m;
        if (head.lastModified) item.pubdate = head.lastModified.toISOString();
        return item;
      }),
    );
    const relVersion = rinfo ? numericVersion(rinfo) : release;
    const productName = `com.ubuntu.installer:netboot:${relVersion}:${arch}`;
    const product = (doc.products[productName] ??= {
      arch,
      release,
      version: relVersion,
      ...(rinfo ? { release_codename: rinfo.codename, release_title: rinfo.version, ...(rinfo.eol ? { support_eol: rinfo.eol } : {}) } : {}),
      versions: {},
    });
    const version: Version = { pocket: pocketName(pocket), items: {} };
    const byKey = new Map<string, DiItem>();
    for (const item of items.sort((a, b) => (a.url < b.url ? -1 : 1))) {
      const key = itemKey(release, item, item.basename);
      const prev = byKey.get(key);
      if (prev) {
        const strip = ({ url: _u, pubdate: _p, basename: _b, ...rest }: DiItem) => JSON.stringify(Object.entries(rest).sort());
        if (strip(prev) !== strip(item)) throw new NameCollisionError(key, prev.url, item.url, productName);
        continue;
      }
      const owner = paths.get(item.path);
      if (owner && owner.sha256 !== item.sha256) throw new PathCollisionError(item.path, owner.url, item.url);
      if (!owner) paths.set(item.path, { sha256: item.sha256, url: item.url });
      byKey.set(key, item);
      version.items[key] = item;
    }
    // The same build can sit in several pockets: the earliest pocket in `pockets` names it.
    const existing = product.versions[ver];
    if (existing && pockets.indexOf(pocketOf(existing)) <= pockets.indexOf(pocket)) return;
    product.versions[ver] = version;
    if (!existing) files += byKey.size;
    emit({ type: 'di-version', product: productName, version: ver, pocket: version['pocket'] as string, files: byKey.size, verifiedBy });
  };

  const strict = options.strict !== false;
  const jobs: Promise<void>[] = [];
  for (const release of options.releases) {
    const rinfo = distro.find((r) => r.series === release);
    for (const pocket of pockets) {
      const suite = `${release}${pocket}`;
      const suiteIndex = loadSuite(suite);
      suiteIndex.catch(() => undefined); // awaited (and reported) per arch below
      for (const arch of options.arches) {
        jobs.push(
          (async () => {
            try {
              const idx = await suiteIndex;
              const found = await versionsOf(suite, arch, idx);
              if (!found) {
                emit({ type: 'di-suite-missing', suite, url: joinUrl(archive, `dists/${suite}/main/installer-${arch}/`) });
                return;
              }
              emit({ type: 'di-suite', suite, arch, versions: found.versions, via: found.via });
              await Promise.all(
                found.versions.map((ver) =>
                  crawlVersion(release, rinfo, arch, suite, pocket, ver, idx).catch((err: Error) => {
                    errors.push(err);
                    if (!(strict && unreachable(err))) emit({ type: 'di-error', suite, arch, version: ver, message: err.message });
                  }),
                ),
              );
            } catch (err) {
              errors.push(err as Error);
              if (!(strict && unreachable(err))) emit({ type: 'di-error', suite, arch, message: (err as Error).message });
            }
          })(),
        );
      }
    }
  }
  try {
    await Promise.all(jobs);
  } finally {
    if (ownClient) client.close();
  }
  // An archive nobody answers at (say Ubuntu's, from a network that only reaches a local
  // mirror) fails every suite the same way: one error, not a warning per suite before it.
  if (errors.length && strict) throw errors.find(unreachable) ?? errors[0];
  return { doc, errors, stats: { ...client.stats, files } };
}

/** Nothing answered (refused, unreachable, no connection in time): not something the archive said. */
function unreachable(err: unknown): boolean {
  return err instanceof ConnectionError || (err instanceof HttpTimeoutError && err.phase === 'connect');
}
