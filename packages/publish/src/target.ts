import path from 'node:path';
import { TargetError } from './errors.js';
import { FsStore } from './fs-store.js';
import { S3Store } from './s3-store.js';
import { SwiftStore } from './swift-store.js';
import { joinKey, type ObjectStore } from './store.js';

export interface TargetOptions {
  /** Extra prefix (`--prefix`) joined after the one in the URL. */
  prefix?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  concurrency?: number;
}

function cleanPrefix(p: string, target: string): string {
  const s = p.replace(/^\/+|\/+$/g, '');
  if (s.split('/').some((seg) => seg === '..' || seg === '.')) throw new TargetError(target, `prefix "${p}" has . or .. segments`);
  return s;
}

/** swift://CONTAINER[/PREFIX], s3://BUCKET[/PREFIX] or file://DIR (a bare path is a directory too). */
export function openTarget(target: string, options: TargetOptions = {}): ObjectStore {
  const env = options.env ?? process.env;
  const m = /^([a-z0-9]+):\/\/(.*)$/i.exec(target);
  const extra = options.prefix ? cleanPrefix(options.prefix, target) : '';
  if (!m) {
    if (/^[a-z0-9]+:/i.test(target) && !target.startsWith('/')) throw new TargetError(target, 'unknown store scheme');
    const dir = path.resolve(options.cwd ?? process.cwd(), target, extra);
    return new FsStore(dir);
  }
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'file') {
    if (!rest.startsWith('/')) throw new TargetError(target, 'file:// needs an absolute path (file:///srv/mirror)');
    return new FsStore(path.join(decodeURIComponent(rest), extra));
  }
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = joinKey(cleanPrefix(slash < 0 ? '' : rest.slice(slash + 1), target), extra).replace(/\/+$/, '');
  if (!name) throw new TargetError(target, `${scheme}:// needs a ${scheme === 's3' ? 'bucket' : 'container'} name`);
  if (scheme === 'swift') return new SwiftStore(name, prefix, env, options.concurrency ? { concurrency: options.concurrency } : {});
  if (scheme === 's3') return new S3Store(name, prefix, env, options.concurrency ? { concurrency: options.concurrency } : {});
  throw new TargetError(target, `unknown store scheme ${scheme}://`);
}
