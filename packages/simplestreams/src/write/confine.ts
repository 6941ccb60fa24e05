import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { UnsafePathError } from '../errors.js';
import { resolveInside } from '../paths.js';

/** The metadata directory at the top of a stream; it must never lead outside the target. */
const METADATA_TOP = 'streams';

function inside(dir: string, base: string): boolean {
  return dir === base || dir.startsWith(base.endsWith(path.sep) ? base : base + path.sep);
}

/** Where a directory of the target really is, and the tree everything below it must stay in. */
interface Resolved {
  real: string;
  allowed: string;
}

/** A directory that does not exist yet: it and everything below it will be made as real directories. */
const MISSING = 'missing';

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
 * Each directory is checked once per instance (one instance serves one update), with one
 * lstat on top of its parent's result. The lstats are synchronous: each costs microseconds,
 * several times less than a round trip through the thread pool, and an update checks hundreds.
 */
export class TargetConfinement {
  private readonly resolvedRoot: string;
  private realRoot: string | undefined;
  private readonly dirs = new Map<string, Resolved | typeof MISSING>();

  constructor(readonly root: string) {
    this.resolvedRoot = path.resolve(root);
  }

  /** Resolves `rel` under the root (no `..`/absolute) and checks the directories it goes through. */
  async resolve(rel: string, what: string): Promise<string> {
    const abs = resolveInside(this.root, rel, what);
    this.dirState(path.dirname(abs), rel);
    return abs;
  }

  /** Checks an absolute path already known to be lexically inside the root. */
  async check(abs: string, rel = path.relative(this.root, abs)): Promise<void> {
    this.dirState(path.dirname(abs), rel);
  }

  private dirState(dir: string, rel: string): Resolved | typeof MISSING {
    const known = this.dirs.get(dir);
    if (known) return known;
    let state: Resolved | typeof MISSING;
    if (dir === this.resolvedRoot || !inside(dir, this.resolvedRoot)) {
      this.realRoot ??= realOrResolved(this.root);
      state = { real: this.realRoot, allowed: this.realRoot };
    } else {
      const parent = this.dirState(path.dirname(dir), rel);
      state = parent === MISSING ? MISSING : this.step(parent, dir, rel);
    }
    this.dirs.set(dir, state);
    return state;
  }

  /** One path segment below an existing, already checked directory. */
  private step(parent: Resolved, dir: string, rel: string): Resolved | typeof MISSING {
    const next = path.join(parent.real, path.basename(dir));
    const st = lstatSync(next, { throwIfNoEntry: false });
    if (!st) return MISSING;
    if (!st.isSymbolicLink()) return { real: next, allowed: parent.allowed };
    const shown = path.join(this.root, path.relative(this.resolvedRoot, dir));
    let dest: string;
    try {
      dest = realpathSync(next);
    } catch {
      throw new UnsafePathError(rel, `goes through ${shown}, a symlink whose destination does not exist`, 'target stream');
    }
    if (inside(dest, parent.allowed)) return { real: dest, allowed: parent.allowed };
    const topLevel = path.dirname(dir) === this.resolvedRoot;
    if (!topLevel || path.basename(dir) === METADATA_TOP) {
      throw new UnsafePathError(rel, `would be written outside the target through the symlink ${shown} -> ${readlinkSync(next)}`, 'target stream');
    }
    return { real: dest, allowed: dest }; // the shared data pool: everything below must stay in it
  }
}

function realOrResolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}
