import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ConverterEvent } from '../events.js';
import { run } from './exec.js';

export interface SquashfsOptions {
  compression: 'xz' | 'zstd' | 'gzip';
  /** mksquashfs -b value, e.g. `1M` or `131072`. */
  blockSize?: string;
  /** Limit mksquashfs's threads (default: all cores). */
  processors?: number;
  signal?: AbortSignal;
  onEvent?: (e: ConverterEvent) => void;
}

/**
 * `mksquashfs TREE OUT -noappend -comp C -xattrs` into a temp file beside OUT, renamed when
 * complete. The tree is the customised, kernel-less root: as in the original, the published
 * squashfs is the image without the per-flavour kernels (those are installed in overlays and
 * shipped as boot-kernel/boot-initrd), so nothing has to be excluded.
 */
export async function makeSquashfs(tree: string, out: string, o: SquashfsOptions): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const args = [tree, tmp, '-noappend', '-comp', o.compression, '-xattrs'];
  if (o.blockSize) args.push('-b', o.blockSize);
  if (o.processors) args.push('-processors', String(o.processors));
  let last = -1;
  try {
    await run('mksquashfs', args, {
      signal: o.signal,
      what: `mksquashfs -comp ${o.compression}`,
      spacePath: out,
      onLine: (line) => {
        // the progress bar: "[=====/     ] 1234/5678  21%", redrawn with \r
        const m = /\s(\d{1,3})%\s*$/.exec(line);
        const pct = m ? Number(m[1]) : -1;
        if (pct !== last && pct >= 0 && pct <= 100) {
          last = pct;
          o.onEvent?.({ type: 'progress', step: 'squashfs', done: pct, total: 100, unit: '%' });
        }
      },
    });
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
