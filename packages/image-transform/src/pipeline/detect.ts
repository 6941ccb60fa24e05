import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { SourceFormatError } from '../errors.js';

/** The original's image formats (`maas-cloudimg2eph2 --image-format`). */
export type ImageFormat = 'img-tar' | 'root-image' | 'root-image-gz' | 'root-tar' | 'squashfs-image';
export type Compression = 'none' | 'gzip' | 'xz';

export interface SourceType {
  format: ImageFormat;
  /** Outer compression of tarballs and root-image-gz. */
  compression: Compression;
  /** For disk images: qcow2 needs `qemu-img convert` first. */
  container?: 'raw' | 'qcow2';
  /** How it was decided, for logs. */
  detectedBy: 'content' | 'name' | 'forced';
}

const HEAD = 64 * 1024;

/**
 * Detects the source type from its first bytes (like the original's use of `file`), looking
 * inside gzip/xz to tell a root tarball from a tarball holding one `.img` (img-tar) or a
 * gzipped disk image. The file name is only a fallback for content that proves nothing.
 */
export async function detectSourceType(file: string): Promise<SourceType> {
  const head = await readHead(file, HEAD);
  if (head.length === 0) throw new SourceFormatError(file, 'is empty', { hint: 'the download or copy is incomplete' });
  if (startsWith(head, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return inner(file, 'xz', await decompressHead(file, 'xz'));
  if (startsWith(head, [0x1f, 0x8b])) return inner(file, 'gzip', await decompressHead(file, 'gzip'));
  const plain = classifyPlain(head);
  if (plain) return { ...plain, compression: 'none', detectedBy: 'content' };
  return byName(file);
}

function inner(file: string, compression: Compression, data: Buffer): SourceType {
  if (data.length === 0) throw new SourceFormatError(file, `is a ${compression} stream that does not decompress`, { hint: 'the file is truncated or corrupt' });
  if (isTar(data)) return { format: tarKind(data), compression, detectedBy: 'content' };
  const plain = classifyPlain(data);
  if (plain?.format === 'root-image' && compression === 'gzip') return { format: 'root-image-gz', compression, detectedBy: 'content', container: plain.container };
  if (plain) return { ...plain, compression, detectedBy: 'content' };
  return { ...byName(file), compression };
}

function classifyPlain(b: Buffer): Omit<SourceType, 'compression' | 'detectedBy'> | undefined {
  if (startsWith(b, [0x51, 0x46, 0x49, 0xfb])) return { format: 'root-image', container: 'qcow2' };
  if (startsWith(b, [0x68, 0x73, 0x71, 0x73])) return { format: 'squashfs-image' };
  if (isTar(b)) return { format: tarKind(b) };
  const ext = b.length >= 1082 && b[1080] === 0x53 && b[1081] === 0xef;
  const mbr = b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa;
  const gpt = b.length >= 520 && b.subarray(512, 520).toString('latin1') === 'EFI PART';
  if (ext || mbr || gpt) return { format: 'root-image', container: 'raw' };
  return undefined;
}

function isTar(b: Buffer): boolean {
  return b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar';
}

/** A tarball whose first regular member is a top-level `*.img` is an img-tar; else a root tar. */
function tarKind(b: Buffer): 'img-tar' | 'root-tar' {
  for (let off = 0; off + 512 <= b.length; ) {
    const name = b.subarray(off, off + 100).toString('latin1').replace(/\0.*$/s, '');
    if (!name) break;
    const prefix = b.subarray(off + 345, off + 500).toString('latin1').replace(/\0.*$/s, '');
    // GNU and pax sparse members (tar -S) keep the real name after a GNUSparseFile.N/ dir
    const full = (prefix ? `${prefix}/${name}` : name).replace(/^\.\//, '').replace(/^GNUSparseFile\.\d+\//, '');
    const type = String.fromCharCode(b[off + 156] ?? 0);
    const size = parseInt(b.subarray(off + 124, off + 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (type === '0' || type === '\0' || type === '7' || type === 'S') return /^[^/]+\.img$/.test(full) ? 'img-tar' : 'root-tar';
    if (type !== '5' && type !== 'x' && type !== 'g') return 'root-tar';
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return 'root-tar';
}

/** The original's name-based fallback (`maas-cloudimg2eph2`). */
export function byName(file: string): SourceType {
  const base = path.basename(file);
  const compression: Compression = /\.(xz|txz)$/.test(base) ? 'xz' : /\.(gz|tgz)$/.test(base) ? 'gzip' : 'none';
  let format: ImageFormat;
  if (/-root\.t..$|-root\.tar$|-root\.tar\...$/.test(base)) format = 'root-tar';
  else if (/\.(tar\.gz|tgz|tar)$/.test(base)) format = 'img-tar';
  else if (/\.gz$/.test(base)) format = 'root-image-gz';
  else if (/\.squashfs$/.test(base)) format = 'squashfs-image';
  else if (/\.(img|raw|qcow2)$/.test(base)) format = 'root-image';
  else throw new SourceFormatError(file, 'is not a recognised source image (root tarball, img tarball, raw/qcow2 disk image or squashfs)', { hint: 'pass --image-format to say what it is' });
  return { format, compression, detectedBy: 'name' };
}

async function readHead(file: string, n: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new SourceFormatError(file, `cannot be read: ${(e as Error).message}`, { cause: e });
  }
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The first HEAD decompressed bytes (empty when the stream is corrupt from the start). */
async function decompressHead(file: string, compression: 'gzip' | 'xz'): Promise<Buffer> {
  const { createReadStream } = await import('node:fs');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      cleanup();
      resolve(Buffer.concat(chunks).subarray(0, HEAD));
    };
    const onData = (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (total >= HEAD) finish();
    };
    let cleanup: () => void;
    if (compression === 'gzip') {
      const input = createReadStream(file);
      const gz = createGunzip();
      input.pipe(gz).on('data', onData).on('end', finish).on('error', finish);
      input.on('error', finish);
      cleanup = () => { input.destroy(); gz.destroy(); };
    } else {
      const child = spawn('xz', ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.on('data', onData).on('end', finish).on('error', finish);
      child.on('error', finish);
      cleanup = () => { child.stdout.destroy(); child.kill('SIGKILL'); };
    }
  });
}

function startsWith(b: Buffer, magic: number[]): boolean {
  return magic.every((v, i) => b[i] === v);
}
