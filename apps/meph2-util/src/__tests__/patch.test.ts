import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandProducts } from '@meph/simplestreams';
import { parsePatch } from '@meph/stream-ops';
import { REPO_ROOT, runAppProcess, runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';
import { assertStreamIntact, JAMMY, listFiles, makeStream, NOBLE, productsPath, readProducts, tempDir, versionMap, type FixtureRelease } from './stream-fixture.js';

const FOCAL: FixtureRelease = { release: 'focal', version: '20.04', arches: ['amd64'], subarches: ['ga-20.04', 'hwe-20.04'] };
const GROOVY: FixtureRelease = { release: 'groovy', version: '20.10', arches: ['amd64'], subarches: ['ga-20.10'] };
const COSMIC: FixtureRelease = { release: 'cosmic', version: '18.10', arches: ['amd64'], subarches: ['ga-18.10'] };
const CONF = path.join(SHARED_DIR, 'reference/conf');
const SP = (rel: FixtureRelease, sub: string, arch = 'amd64') => `com.ubuntu.maas.stable:v3:boot:${rel.version}:${arch}:${sub}`;

let dir: string;
beforeAll(async () => {
  dir = await tempDir('meph-patch-');
  await makeStream(path.join(dir, 'candidate'), { label: 'candidate', serials: ['20200721', '20200722.1', '20260720', '20260722'], releases: [FOCAL, GROOVY, JAMMY, NOBLE] });
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});
const env = { ...process.env, MEPH_SIGNING_KEY: '', MEPH_GPG_KEY: '', MEPH_KEYRING: '' };
const run = (args: string[]) => runCliCaptured(spec, args, { cwd: dir, env });
async function stable(name: string, releases: FixtureRelease[], serials = ['20200721', '20260720']): Promise<string> {
  const root = path.join(dir, name);
  await makeStream(root, { label: 'stable', serials, releases });
  return root;
}
async function writePatch(name: string, text: string): Promise<string> {
  await fs.writeFile(path.join(dir, name), text);
  return name;
}

describe('meph2-util patch', () => {
  it('accepts every reference patch file (cpc-patch.yaml and the documented examples)', async () => {
    for (const f of (await fs.readdir(CONF)).filter((n) => n.endsWith('.yaml') && (n.startsWith('patch-') || n === 'cpc-patch.yaml'))) {
      const doc = parsePatch(await fs.readFile(path.join(CONF, f), 'utf8'), f);
      expect(Object.keys(doc).length, f).toBeGreaterThan(0);
    }
  });

  it('version rules (seed 13): no target label → removed; label + absent → copied with files; label + present → untouched', async () => {
    const root = await stable('s-versions', [JAMMY]);
    const kept = path.join(root, 'jammy/amd64/20260720/squashfs');
    const inode = (await fs.stat(kept)).ino;
    const p = await writePatch('versions.yaml', [
      'com.ubuntu.maas:v3:download.json:',
      '  com.ubuntu.maas:v3:boot:22.04:amd64:ga-22.04:',
      '    versions:',
      "      '20200721': {}",
      "      '20260720': {labels: [candidate, stable]}",
      "      '20260722':",
      '        labels:',
      '        - candidate',
      '        - stable',
      '',
    ].join('\n'));
    const r = await run(['patch', '-u', '--json', 'candidate', 's-versions', '-i', p]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const types = r.stdout.trim().split('\n').map((l) => JSON.parse(l).type);
    expect(types).toEqual(expect.arrayContaining(['version-removed', 'version-added', 'file-copied']));
    const doc = await readProducts(root, productsPath('stable'));
    expect(versionMap(doc)[SP(JAMMY, 'ga-22.04')]).toEqual(['20260720', '20260722']);
    expect(versionMap(doc)[SP(JAMMY, 'ga-22.04', 'arm64')]).toEqual(['20200721', '20260720']);
    expect((await fs.stat(kept)).ino).toBe(inode);
    await assertStreamIntact(root);
    // copied versions carry the target's label
    for (const v of Object.values(expandProducts(doc).products[SP(JAMMY, 'ga-22.04')]!.versions)) for (const i of Object.values(v.items)) expect(i['label']).toBe('stable');
  });

  it('regexes are anchored, products whose labels lack the target label are deleted, metadata takes the target label value (seed 13)', async () => {
    const root = await stable('s-products', [FOCAL, JAMMY]);
    const p = await writePatch('products.yaml', [
      'com.ubuntu.maas:v3:download.json:',
      '  com.ubuntu.maas:v3:boot:20.04:amd64:ga-20:', // anchored: must not match ga-20.04
      '    labels: {}',
      '  com.ubuntu.maas:v3:boot:20.04:amd64:hwe-.*:',
      '    labels: [candidate]',
      '  com.ubuntu.maas:v3:boot:22.04:.*:',
      '    support_eol:',
      "      candidate: '2027-06-01'",
      "      stable: '2027-06-02'",
      '    release_title: {candidate: 22.04 LTS (c)}',
      '',
    ].join('\n'));
    const r = await run(['patch', '-u', 's-products', '-i', p]);
    expect(r.code).toBe(0);
    const doc = await readProducts(root, productsPath('stable'));
    expect(Object.keys(doc.products).sort()).toEqual([SP(FOCAL, 'ga-20.04'), SP(JAMMY, 'ga-22.04'), SP(JAMMY, 'ga-22.04', 'arm64')]);
    const jammy = doc.products[SP(JAMMY, 'ga-22.04')]!;
    expect(jammy['support_eol']).toBe('2027-06-02');
    expect(jammy['release_title']).toBe('22.04 LTS');
    for (const v of Object.values(jammy.versions)) expect(v['support_eol'] ?? '2027-06-02').toBe('2027-06-02');
  });

  it('applies the documented examples: delete-version, modify-metadata, delete-products, promote-product, promote-version', async () => {
    const root = await stable('s-examples', [FOCAL, GROOVY, COSMIC], ['20200721', '20200722']);
    const ex = (n: string) => path.join(CONF, `patch-example-${n}.yaml`);
    expect((await run(['patch', '-u', 's-examples', '-i', ex('delete-version')])).code).toBe(0);
    let doc = await readProducts(root, productsPath('stable'));
    expect(versionMap(doc)[SP(FOCAL, 'ga-20.04')]).toEqual(['20200722']);
    expect(versionMap(doc)[SP(GROOVY, 'ga-20.10')]).toEqual(['20200721', '20200722']);

    expect((await run(['patch', '-u', 's-examples', '-i', ex('modify-metadata')])).code).toBe(0);
    doc = await readProducts(root, productsPath('stable'));
    expect(doc.products[SP(GROOVY, 'ga-20.10')]).toMatchObject({ support_eol: '2030-07-22', release_title: '20.10 LTS' });
    for (const v of Object.values(doc.products[SP(GROOVY, 'ga-20.10')]!.versions)) expect(v['support_esm_eol']).toBe('2035-07-22');

    expect((await run(['patch', '-u', 's-examples', '-i', ex('promote-version')])).stderr).toMatch(/must be copied from a source stream/);
    expect((await run(['patch', '-u', 'candidate', 's-examples', '-i', ex('promote-version')])).code).toBe(0);
    doc = await readProducts(root, productsPath('stable'));
    expect(versionMap(doc)[SP(FOCAL, 'ga-20.04')]).toEqual(['20200722', '20200722.1']);

    expect((await run(['patch', '-u', 's-examples', '-i', ex('delete-products')])).code).toBe(0);
    doc = await readProducts(root, productsPath('stable'));
    expect(Object.keys(doc.products).filter((p) => p.includes(':18.10:'))).toEqual([]);
    expect(Object.keys(doc.products).filter((p) => p.includes(':20.10:'))).toHaveLength(1);
    // promote-product adds 20.10 products the target lacks: drop ours first
    await writePatch('drop-groovy.yaml', 'com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:20.10:.*:\n    labels: []\n');
    expect((await run(['patch', '-u', 's-examples', '-i', 'drop-groovy.yaml'])).code).toBe(0);
    expect((await run(['patch', '-u', 'candidate', 's-examples', '-i', ex('promote-product')])).code).toBe(0);
    doc = await readProducts(root, productsPath('stable'));
    expect(doc.products[SP(GROOVY, 'ga-20.10')]).toMatchObject({ label: 'stable' });
    expect(versionMap(doc)[SP(GROOVY, 'ga-20.10')]).toEqual(['20200721', '20200722.1', '20260720', '20260722']);
    await assertStreamIntact(root);
  });

  it('applies the production cpc-patch.yaml to a stable stream', async () => {
    const root = await stable('s-cpc', [JAMMY], ['20260701']);
    const centos = {
      format: 'products:1.0',
      content_id: 'com.ubuntu.maas:stable:centos-bases-download',
      datatype: 'image-downloads',
      products: {
        'com.ubuntu.maas.stable:centos-bases:7.0:amd64': {
          arch: 'amd64', label: 'stable', os: 'centos', release: 'centos70', subarch: 'generic', subarches: 'generic', version: '7.0', support_eol: '2024-06-29',
          versions: { '20200101_01': { items: { 'root-tgz': { ftype: 'root-tgz', path: 'centos/x', sha256: 'a'.repeat(64), size: 1 }, manifest: { ftype: 'manifest', path: 'centos/x.manifest', sha256: 'b'.repeat(64), size: 1 } } } },
        },
      },
    };
    await fs.writeFile(path.join(root, 'streams/v1/com.ubuntu.maas:stable:centos-bases-download.json'), JSON.stringify(centos));
    const { regenerateIndex } = await import('@meph/simplestreams');
    await regenerateIndex(root);
    const r = await run(['patch', '-u', '--json', 'candidate', 's-cpc', '-i', path.join(CONF, 'cpc-patch.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = await readProducts(root, productsPath('stable'));
    expect(versionMap(doc)[SP(JAMMY, 'ga-22.04')]).toEqual(['20260701', '20260722']);
    expect(doc.products[SP(JAMMY, 'ga-22.04')]!['support_eol']).toBe('2027-06-01');
    const c = await readProducts(root, 'streams/v1/com.ubuntu.maas:stable:centos-bases-download.json');
    expect(c.products['com.ubuntu.maas.stable:centos-bases:7.0:amd64']!['support_eol']).toBe('2024-06-30');
    const index = JSON.parse(await fs.readFile(path.join(root, 'streams/v1/index.json'), 'utf8'));
    expect(Object.keys(index.index).sort()).toEqual(['com.ubuntu.maas:stable:centos-bases-download', 'com.ubuntu.maas:stable:v3:download']);
  });

  it('-n changes nothing; a bad checksum in the source aborts before metadata changes; empty patch is a warning', async () => {
    const root = await stable('s-safety', [JAMMY]);
    const p = await writePatch('add.yaml', "com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:22.04:.*:\n    versions:\n      '20260722': {labels: [stable]}\n");
    const before = await listFiles(root);
    const dry = await run(['patch', '-u', '-n', 'candidate', 's-safety', '-i', p]);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain('version-added');
    expect(await listFiles(root)).toEqual(before);

    const bad = path.join(dir, 'candidate-bad');
    await makeStream(bad, { label: 'candidate', serials: ['20260722'], releases: [JAMMY] });
    await fs.writeFile(path.join(bad, 'jammy/arm64/20260722/squashfs'), 'tampered');
    const productsBefore = await fs.readFile(path.join(root, productsPath('stable')), 'utf8');
    const r = await run(['patch', '-u', 'candidate-bad', 's-safety', '-i', p]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^meph2-util: error: .*jammy\/arm64\/20260722\/squashfs.*(size|sha256)/m);
    expect(await fs.readFile(path.join(root, productsPath('stable')), 'utf8')).toBe(productsBefore);
    await assertStreamIntact(root);

    const empty = await writePatch('empty.yaml', '# nothing\n');
    const e = await run(['patch', '-u', 's-safety', '-i', empty]);
    expect(e.code).toBe(0);
    expect(e.stderr).toMatch(/warning: no diff defined/);
    expect((await run(['patch', '-u', 'a', 'b', 'c', '-i', empty])).code).toBe(2);
  });

  it('copies versions from an HTTP source (real server on 127.0.0.1), verifying each download', async () => {
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      const rel = decodeURIComponent((req.url ?? '/').split('?')[0]!).replace(/^\/+/, '');
      fs.readFile(path.join(dir, 'candidate', rel)).then(
        (data) => res.writeHead(200, { 'content-length': data.length }).end(data),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const root = await stable('s-http', [JAMMY], ['20260701']);
      const p = await writePatch('http.yaml', "com.ubuntu.maas:v3:download.json:\n  com.ubuntu.maas:v3:boot:22.04:.*:\n    versions:\n      '20260722': {labels: [candidate, stable]}\n");
      const r = await run(['patch', '-u', '--json', `http://127.0.0.1:${port}/`, 's-http', '-i', p]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n').filter((l) => l.includes('"file-copied"'))).toHaveLength(8);
      expect(versionMap(await readProducts(root, productsPath('stable')))[SP(JAMMY, 'ga-22.04', 'arm64')]).toEqual(['20260701', '20260722']);
      await assertStreamIntact(root);
    } finally {
      server.close();
    }
  });

  it('names an unknown products file and bad YAML in one line', async () => {
    await stable('s-errors', [JAMMY]);
    const p = await writePatch('unknown.yaml', 'com.ubuntu.maas:v9:download.json:\n  x: {labels: []}\n');
    const r = await run(['patch', '-u', 's-errors', '-i', p]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^meph2-util: error: unknown\.yaml: com\.ubuntu\.maas:v9:download\.json: the target has no such products file/);
    const missing = await run(['patch', '-u', 'no-such-stream', '-i', p]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^meph2-util: error: no-such-stream: no such stream directory \(give the mirror root/);
    await expect(fs.access(path.join(dir, 'no-such-stream'))).rejects.toThrow();
    const b = await writePatch('bad.yaml', 'a: [\n');
    expect((await run(['patch', '-u', 's-errors', '-i', b])).stderr).toMatch(/^meph2-util: error: bad\.yaml: line 2: not valid YAML/);
  });

  it('an unknown YAML tag (!!js/function) is one error line, with no YAML warnings printed by the process', async () => {
    const p = await writePatch('tagged.yaml', 'com.ubuntu.maas:v3:download.json:\n  x: !!js/function "function () { return 1 }"\n');
    const r = await runAppProcess('meph2-util', ['patch', '-u', '-n', 's-errors', '-i', p], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('meph2-util: error: tagged.yaml: line 2: not valid YAML: unknown YAML tag !!js/function (a patch holds plain YAML only)\n');
  });

  it('a missing -i file is one line naming it (was a raw ENOENT)', async () => {
    await stable('s-missing', [JAMMY]);
    const r = await run(['patch', '-u', 's-missing', '-i', 'missing.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^meph2-util: error: -i missing\.yaml: no such patch file \(give the YAML written by `meph2-util diff`/);
    expect(r.stderr).not.toMatch(/ENOENT/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the shipped conf/cpc-patch.yaml applies to meph\'s own Ubuntu streams (a products file neither stream has is skipped)', async () => {
    const root = await stable('s-cpc-own', [JAMMY]);
    const r = await runCliCaptured(spec, ['patch', '-u', 'candidate', 's-cpc-own', '-i', path.join(REPO_ROOT, 'conf/cpc-patch.yaml')], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/stream-skipped stream=com\.ubuntu\.maas:centos-bases-download\.json/);
    const doc = await readProducts(root, productsPath('stable'));
    expect(versionMap(doc)[SP(JAMMY, 'ga-22.04')]).toEqual(['20200721', '20260720', '20260722']);
    expect(doc.products[SP(JAMMY, 'ga-22.04')]!['support_eol']).toBe('2027-06-01');
    await assertStreamIntact(root);
    // a patch none of whose products files exist is still an error
    const none = await writePatch('none.yaml', 'com.ubuntu.maas:v9:download.json:\n  x: {labels: []}\ncom.ubuntu.maas:v8:download.json:\n  x: {labels: []}\n');
    expect((await run(['patch', '-u', 'candidate', 's-cpc-own', '-i', none])).code).toBe(1);
  });

  it('the shipped conf/debian-patch.yaml adds the Debian products stable lacks', async () => {
    const build = await runAppProcess('meph2-build', ['--config', 'conf/debian-bookworm.yaml', '--no-sign', 'amd64', 'bookworm', '20260101', path.join(REPO_ROOT, 'conf/README.md'), path.join(dir, 'deb-cand')], {
      cwd: REPO_ROOT,
      env: { ...env, MAAS_CLOUDIMG2EPH2: 'fake' },
    });
    expect(build.code, build.stderr).toBe(0);
    expect((await run(['promote', '-u', 'deb-cand', 'deb-stable', '20260101', 'kflavor=generic'])).code).toBe(0);
    const r = await runCliCaptured(spec, ['patch', '-u', 'deb-cand', 'deb-stable', '-i', path.join(REPO_ROOT, 'conf/debian-patch.yaml')], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const doc = await readProducts(path.join(dir, 'deb-stable'), 'streams/v1/org.debian.meph:stable:v3:download.json');
    expect(versionMap(doc)).toEqual({ 'org.debian.meph.stable:v3:boot:12:amd64:ga-12': ['20260101'], 'org.debian.meph.stable:v3:boot:12:amd64:ga-12-cloud': ['20260101'] });
    await assertStreamIntact(path.join(dir, 'deb-stable'));
  }, 120_000);
});
