import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamLocationError } from '../errors.js';
import { resolveWriteTarget, splitMirrorUrl } from './location.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meph-location-'));
  await fs.mkdir(path.join(dir, 's/streams/v1'), { recursive: true });
  await fs.writeFile(path.join(dir, 's/streams/v1/index.json'), '{}');
  await fs.writeFile(path.join(dir, 'file.json'), '{}');
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('splitMirrorUrl (path_from_mirror_url)', () => {
  it('splits at streams/v1/<name>.json|.sjson, else the whole string is the root', () => {
    expect(splitMirrorUrl('https://h/x/streams/v1/index.sjson')).toEqual({ root: 'https://h/x/', path: 'streams/v1/index.sjson', isUrl: true });
    expect(splitMirrorUrl('d/streams/v1/com.ubuntu.maas:stable:v3:download.json')).toEqual({ root: 'd/', path: 'streams/v1/com.ubuntu.maas:stable:v3:download.json', isUrl: false });
    expect(splitMirrorUrl('d')).toEqual({ root: 'd/', path: undefined, isUrl: false });
  });
});

describe('resolveWriteTarget', () => {
  it('a mirror root or any streams/v1 index path writes to the mirror root', async () => {
    for (const form of ['s', 's/', 's/streams/v1/index.json', './s/streams/v1/index.sjson', path.join(dir, 's/streams/v1/index.json')]) {
      expect(await resolveWriteTarget(form, { cwd: dir }), form).toEqual({ root: path.join(dir, 's') });
    }
    expect(await resolveWriteTarget('streams/v1/index.json', { cwd: path.join(dir, 's') })).toEqual({ root: path.join(dir, 's') });
    expect(await resolveWriteTarget('new/streams/v1/index.json', { cwd: dir })).toEqual({ root: path.join(dir, 'new') });
  });
  it('a products file names its root and itself (as .json)', async () => {
    expect(await resolveWriteTarget('s/streams/v1/com.ubuntu.maas:stable:v3:download.sjson', { cwd: dir })).toEqual({ root: path.join(dir, 's'), productsPath: 'streams/v1/com.ubuntu.maas:stable:v3:download.json' });
  });
  it('URLs, files and (with mustExist) missing streams are one clear error', async () => {
    await expect(resolveWriteTarget('http://h/s/', { command: 'clean-md' })).rejects.toThrow(/^http:\/\/h\/s\/: clean-md writes to this stream, so it must be a local directory, not a URL$/);
    await expect(resolveWriteTarget('file.json', { cwd: dir })).rejects.toBeInstanceOf(StreamLocationError);
    await expect(resolveWriteTarget('s/streams/v1/index.json/', { cwd: dir })).rejects.toThrow(/is a file, not a stream directory/);
    await expect(resolveWriteTarget('nope/streams/v1/index.json', { cwd: dir, mustExist: true })).rejects.toThrow(/no such stream directory/);
    await fs.mkdir(path.join(dir, 'empty'));
    await expect(resolveWriteTarget('empty', { cwd: dir, mustExist: true })).rejects.toThrow(/is not a stream: streams\/v1\/index\.json is missing/);
    await expect(resolveWriteTarget('s', { cwd: dir, mustExist: true })).resolves.toEqual({ root: path.join(dir, 's') });
  });
});
