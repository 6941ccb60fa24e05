import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UnsafePathError } from '../errors.js';
import { resolveInside } from '../paths.js';

/** The metadata directory at the top of a stream; it must never lead outside the target. */
const METADATA_TOP = 'streams';

function inside(dir: string, base: string): boolean {
  return dir === base || dir.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
}

/**
 * Keeps a writer's files inside its target stream even when the target holds symlinks.
 *
 * A path may pass through symlinks that stay inside the target. A symlink that leads outside
 * is followed only when it is a top-level entry other than `streams/` — the shared data pool
 * of the original's README (`daily/data -> ../data`), set up by the operator — and then only
 * as long as the rest of the path stays inside what that link points at. Anything else (a
 * version directory linked elsewhere, a symlinked `streams/`) is refused with an
 * UnsafePathError naming the link, before anything is written.
 *
 * Checks are memoised per directory; one instance serves one update.
 */
export class TargetConfinement {
  private realRoot: Promise<string> | undefined;
  private readonly dirs = new Map<string, Promise<void>>();
  /** Real paths found missing: what lies below them is created as real directories, no lstat needed. */
  private readonly missing = new Set<string>();

  constructor(readonly root: string) {}

  /** Resolves `rel` under the root (no `..`/absolute) and checks the directories it goes through. */
  async resolve(rel: string, what: string): Promise<string> {
    const abs = resolveInside(this.root, rel, what);
    await this.checkDir(path.dirname(abs), rel);
    return abs;
  }

  /** Checks an absolute path already known to be lexically inside the root. */
  async check(abs: string, rel = path.relative(this.root, abs)): Promise<void> {
    await this.checkDir(path.dirname(abs), rel);
  }

  private checkDir(dir: string, rel: string): Promise<void> {
    let pending = this.dirs.get(dir);
    if (!pending) {
      pending = this.walk(dir, rel);
      this.dirs.set(dir, pending);
    }
    return pending;
  }

  private async walk(dir: string, rel: string): Promise<void> {
    const realRoot = await (this.realRoot ??= fsp.realpath(this.root).catch(() => path.resolve(this.root)));
    const segments = path.relative(path.resolve(this.root), dir).split(path.sep).filter(Boolean);
    let cur = realRoot;
    let allowed = realRoot;
    for (const [i, seg] of segments.entries()) {
      const next = path.join(cur, seg);
      if (this.missing.has(next)) return;
      let st;
      try {
        st = await fsp.lstat(next);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.missing.add(next);
        return; // the rest is created as real directories
      }
      if (!st.isSymbolicLink()) {
        cur = next;
        continue;
      }
      const dest = await fsp.realpath(next).catch(() => undefined);
      const shown = path.join(this.root, ...segments.slice(0, i + 1));
      if (dest === undefined) throw new UnsafePathError(rel, `goes through ${shown}, a symlink whose destination does not exist`, 'target stream');
      if (!inside(dest, allowed)) {
        const poolLink = i === 0 && seg !== METADATA_TOP;
        if (!poolLink) {
          throw new UnsafePathError(rel, `would be written outside the target through the symlink ${shown} -> ${await fsp.readlink(next)}`, 'target stream');
        }
        allowed = dest; // the shared data pool: everything below must stay in it
      }
      cur = dest;
    }
  }
}
