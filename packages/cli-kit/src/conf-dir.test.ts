import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageConfDir } from './conf-dir.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'meph-conf-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function app(where: string, withConf: boolean): string {
  const dir = path.join(root, where);
  mkdirSync(path.join(dir, 'dist/commands'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), '{}');
  if (withConf) mkdirSync(path.join(dir, 'conf'));
  return pathToFileURL(path.join(dir, 'dist/commands/import.js')).href;
}

describe('packageConfDir', () => {
  it('an installed app (node_modules/<app>, conf/ shipped in it) reads its own conf/', () => {
    expect(packageConfDir(app('project/node_modules/meph2-util', true))).toBe(path.join(root, 'project/node_modules/meph2-util/conf'));
  });
  it('in the checkout (apps/<app>, no copy) it is the repository conf/', () => {
    expect(packageConfDir(app('repo/apps/meph2-build', false))).toBe(path.join(root, 'repo/conf'));
  });
  it('the apps of this checkout resolve to its conf/', () => {
    expect(packageConfDir(pathToFileURL(path.resolve(import.meta.dirname, '../../../apps/meph2-build/src/default-config.ts')).href)).toBe(path.resolve(import.meta.dirname, '../../../conf'));
  });
});
