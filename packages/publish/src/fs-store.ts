import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { assertSafeRelativePath } from '@meph/simplestreams';
import { fsyncFile, renameDurably } from '@meph/sys';
import { md5File } from './hash.js';
import type { ObjectStore, PutBody, StoredObject } from './store.js';

/**
 * A directory as a store (file://DIR). Writes go to a temp name first: putNew links it into
 * place (link(2) fails when the name exists, so create-only is atomic), put renames it.
 */
export class FsStore implements ObjectStore {
  readonly atomicCreate = true;
  readonly readUrl: string | undefined = undefined;
  constructor(readonly root: string, readonly label = `file://${root}`) {}

  private abs(key: string): string {
    assertSafeRelativePath(key, this.label);
    return path.join(this.root, key);
  }

  async open(options: { create?: boolean } = {}): Promise<void> {
    if (options.create) await fsp.mkdir(this.root, { recursive: true });
    const st = await fsp.stat(this.root);
    if (!st.isDirectory()) throw Object.assign(new Error(`${this.root}: not a directory`), { code: 'ENOTDIR', syscall: 'stat' });
  }

  async list(prefix = ''): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (rel: string): Promise<void> => {
      let entries;
      try {
        entries = await fsp.readdir(path.join(this.root, rel), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(child);
        else if (e.isFile() && !e.name.includes('.meph-tmp-')) {
          const st = await fsp.stat(path.join(this.root, child));
          out.push({ key: child, size: st.size, lastModified: st.mtime });
        }
      }
    };
    await walk('');
    return out.filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const st = await fsp.stat(this.abs(key)).catch(() => undefined);
    return st?.isFile() ? { key, size: st.size, lastModified: st.mtime } : undefined;
  }

  async get(key: string): Promise<Buffer | undefined> {
    return fsp.readFile(this.abs(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }

  async md5(key: string): Promise<string | undefined> {
    return (await md5File(this.abs(key)).catch(() => undefined))?.md5;
  }

  private async stage(key: string, body: PutBody): Promise<string> {
    const dest = this.abs(key);
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.meph-tmp-${randomBytes(6).toString('hex')}`;
    if (body.bytes) await fsp.writeFile(tmp, body.bytes);
    else await fsp.copyFile(body.file!, tmp);
    await fsyncFile(tmp);
    return tmp;
  }

  async putNew(key: string, body: PutBody): Promise<'created' | 'exists'> {
    const tmp = await this.stage(key, body);
    try {
      await fsp.link(tmp, this.abs(key));
      return 'created';
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw err;
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }

  async put(key: string, body: PutBody): Promise<void> {
    const tmp = await this.stage(key, body);
    try {
      await renameDurably(tmp, this.abs(key));
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      await fsp.unlink(this.abs(key));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async close(): Promise<void> {}
}
