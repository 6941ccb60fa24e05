import { Digester } from '@meph/http';
import { Readable, addAbortSignal } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import pLimit from 'p-limit';
import { Parser, type ReadEntry } from 'tar';
import xz from 'xz-decompress';
import type { MaasVersion } from './types.js';
import { BOTH, FindingList } from './rules.js';
import type { CheckedProduct } from './check-products.js';
import { BOOTLOADER_FILES, flattened, newestVersion, records, versionItems, type Rec } from './kinds.js';
import { maasPathProblem } from './paths.js';

export interface DataAccess {
  exists?: (relPath: string) => Promise<boolean>;
  openData: (relPath: string) => Promise<Readable>;
}

const ALGORITHMS = ['sha256', 'sha512', 'md5'] as const;

/**
 * Rules 14 and 17 (data half): every item file of the newest version of every product exists,
 * has the listed size and checksums, and bootloader archives contain what MAAS serves.
 */
export async function checkItemData(
  list: FindingList,
  products: CheckedProduct[],
  io: DataAccess,
  options: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const limit = pLimit(options.concurrency ?? 4);
  const tasks: Array<Promise<void>> = [];
  for (const p of products) {
    if (!p.kind) continue;
    const vname = newestVersion(p.product);
    const version = vname === undefined ? undefined : records(p.product['versions']).find(([n]) => n === vname)?.[1];
    if (!version || vname === undefined) continue;
    const at = { file: p.file, productId: p.id, version: vname };
    const archives: Array<Promise<Set<string> | undefined>> = [];
    for (const [iname, item] of versionItems(version)) {
      const path = item['path'];
      if (typeof path !== 'string' || maasPathProblem(path)?.maas.includes('3.7')) continue; // rule 13 says why
      const report: Report = (rule, maas, message) => list.report(rule, { ...at, item: iname, maas, message });
      const isArchive = p.kind === 'bootloader' && item['ftype'] === 'archive.tar.xz';
      const task = limit(async () => {
        options.signal?.throwIfAborted();
        await checkOneFile(io, path, item, report, options.signal);
        return isArchive ? checkBootloaderArchive(io, path, report, options.signal) : undefined;
      });
      if (isArchive) archives.push(task);
      else tasks.push(task.then(() => undefined));
    }
    if (archives.length > 0) {
      // every archive of a version is extracted into the same directory: judge their union
      const dir = `${String(flattened('bootloader-type', p.doc, p.product))}/${String(flattened('arch', p.doc, p.product))}`;
      tasks.push(
        Promise.all(archives).then((sets) => {
          const expected = BOOTLOADER_FILES[dir];
          if (!expected || sets.some((s) => s === undefined)) return; // unsupported (rule 21) or unreadable (reported)
          const present = new Set(sets.flatMap((s) => [...s!]));
          const missing = expected.required.filter((f) => !present.has(f));
          if (missing.length > 0) {
            list.report('R-DL-17', {
              ...at,
              maas: BOTH,
              message: `the ${dir} bootloader archives lack ${missing.join(', ')} at their root; machines cannot network-boot with them`,
            });
          }
        }),
      );
    }
  }
  await Promise.all(tasks);
}

type Report = (rule: 'R-DL-14' | 'R-DL-17', maas: readonly MaasVersion[], message: string) => void;

async function openOrReport(io: DataAccess, path: string, report: Report, signal?: AbortSignal): Promise<Readable | undefined> {
  try {
    if (io.exists && !(await io.exists(path))) {
      report('R-DL-14', BOTH, `file ${path} does not exist`);
      return undefined;
    }
    const stream = await io.openData(path);
    return signal ? addAbortSignal(signal, stream) : stream;
  } catch (err) {
    signal?.throwIfAborted();
    report('R-DL-14', BOTH, `file ${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

async function checkOneFile(io: DataAccess, path: string, item: Rec, report: Report, signal?: AbortSignal): Promise<void> {
  const stream = await openOrReport(io, path, report, signal);
  if (!stream) return;
  const wanted = ALGORITHMS.filter((a) => typeof item[a] === 'string');
  const d = new Digester(wanted);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) d.update(chunk);
  } catch (err) {
    signal?.throwIfAborted();
    report('R-DL-14', BOTH, `reading ${path} failed: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const digest = d.digest();
  const size = digest.size;
  const expectedSize = typeof item['size'] === 'string' ? Number(item['size']) : item['size'];
  if (typeof expectedSize === 'number' && expectedSize !== size) {
    report('R-DL-14', BOTH, `${path} is ${size} bytes, the stream says ${expectedSize}`);
  }
  for (const algorithm of wanted) {
    const actual = digest[algorithm];
    if (actual !== item[algorithm]) {
      report('R-DL-14', algorithm === 'sha256' ? BOTH : ['3.7'], `${path}: ${algorithm} is ${actual}, the stream says ${String(item[algorithm])}`);
    }
  }
}

interface Member {
  path: string;
  type: string;
  linkpath?: string;
}

async function listTarXz(stream: Readable): Promise<Member[]> {
  const members: Member[] = [];
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      members.push({ path: entry.path, type: entry.type, ...(entry.linkpath ? { linkpath: entry.linkpath } : {}) });
      entry.resume();
    },
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('end', () => resolve());
    parser.on('error', reject);
  });
  try {
    const web = Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
    const plain = Readable.fromWeb(new xz.XzReadableStream(web) as unknown as WebReadableStream<Uint8Array>);
    for await (const chunk of plain as AsyncIterable<Buffer>) parser.write(chunk);
    parser.end();
    await done;
    return members;
  } finally {
    stream.destroy();
  }
}

function escapes(name: string): boolean {
  return name.startsWith('/') || name.split('/').includes('..');
}

/** Rule 17 for one archive; returns the regular files at its root (undefined if unreadable). */
async function checkBootloaderArchive(io: DataAccess, path: string, report: Report, signal?: AbortSignal): Promise<Set<string> | undefined> {
  const stream = await openOrReport(io, path, report, signal);
  if (!stream) return undefined;
  let members: Member[];
  try {
    members = await listTarXz(stream);
  } catch (err) {
    signal?.throwIfAborted();
    report('R-DL-17', BOTH, `${path} is not an xz-compressed tar archive (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
  const atRoot = new Set<string>();
  for (const m of members) {
    const name = m.path.replace(/^(\.\/)+/, '');
    if (escapes(m.path)) report('R-DL-17', BOTH, `${path}: member "${m.path}" would be extracted outside the bootloader directory`);
    if ((m.type === 'SymbolicLink' || m.type === 'Link') && m.linkpath !== undefined) {
      const target = m.type === 'SymbolicLink' ? [...name.split('/').slice(0, -1), m.linkpath].join('/') : m.linkpath;
      if (m.linkpath.startsWith('/') || escapesAfterNormalising(target)) {
        report('R-DL-17', BOTH, `${path}: link "${m.path}" points outside the bootloader directory ("${m.linkpath}")`);
      }
    }
    if (m.type === 'File' || m.type === 'OldFile' || m.type === 'ContiguousFile') {
      if (name.includes('/')) report('R-DL-17', BOTH, `${path}: "${m.path}" is in a subdirectory; MAAS serves bootloader files only from the archive root`);
      else atRoot.add(name);
    }
  }
  return atRoot;
}

function escapesAfterNormalising(p: string): boolean {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return true;
      out.pop();
    } else out.push(seg);
  }
  return false;
}
