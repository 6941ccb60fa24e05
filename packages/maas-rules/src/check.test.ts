import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStream } from '@meph/simplestreams';
import type { ProductsDocument } from '@meph/simplestreams';
import { MAAS_RULES, checkMaasDocuments, checkMaasStream, type MaasCheckOptions, type MaasFinding } from './index.js';
import {
  BOOTLOADERS,
  CENTOS,
  CENTOS8,
  GOOD_DIR,
  INDEX,
  Mirror,
  NOBLE,
  RESOLUTE,
  SINDEX,
  TestGpg,
  UEFI,
  V3,
  dumpJson,
  signMirror,
} from './__fixtures__/mirror.js';
import { SHARED_DIR } from '@meph/test-support';

const EXCERPT = path.join(SHARED_DIR, 'reference/streams/maas-sitemanager-fixture/ss_product_noble.json');
const ACCEPTED_DIR = path.join(import.meta.dirname, '__fixtures__/accepted');


const rulesOf = (findings: MaasFinding[]) => [...new Set(findings.map((f) => f.rule))].sort();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let good: Mirror;
let signedGood: Mirror;
let gpg: TestGpg;
let tmp: string;

beforeAll(async () => {
  good = await Mirror.fromDir(GOOD_DIR);
  gpg = await TestGpg.create();
  signedGood = good.clone();
  signMirror(signedGood, gpg);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'meph-maas-test-'));
});

afterAll(async () => {
  await gpg?.dispose();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A tar.xz made by GNU tar from the given members (name → content). */
async function tarXz(members: Record<string, string>, compress = '-J'): Promise<Buffer> {
  const dir = await mkdtemp(path.join(tmp, 'tar-'));
  for (const [name, content] of Object.entries(members)) {
    await mkdir(path.dirname(path.join(dir, 'in', name)), { recursive: true });
    await writeFile(path.join(dir, 'in', name), content);
  }
  execFileSync('tar', ['-c', compress, '-f', path.join(dir, 'out'), '-C', path.join(dir, 'in'), ...Object.keys(members)]);
  return readFile(path.join(dir, 'out'));
}

/** Replaces a data file and updates its item's size and sha256 in the products file. */
function replaceData(m: Mirror, file: string, productId: string, item: string, data: Buffer): void {
  m.edit(file, (d) => {
    const versions = d.products[productId].versions;
    const newest = Object.keys(versions).sort().at(-1)!;
    const it = versions[newest].items[item];
    m.setText(it.path, data);
    it.size = data.length;
    it.sha256 = sha256(data);
  });
}

// eslint-style helpers for the mutations below
type Doc = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const newestOf = (p: Doc) => p.versions[Object.keys(p.versions).sort().at(-1)!];
const addToIndex = (m: Mirror, contentId: string, productId: string) =>
  m.edit(INDEX, (d) => {
    d.index[contentId].products.push(productId);
    d.index[contentId].products.sort();
  });
const resign = (m: Mirror, rel: string, edit: (doc: Doc) => void) => {
  const doc = JSON.parse(good.text(rel.replace(/\.sjson$/, '.json'))) as Doc;
  if (rel === SINDEX) for (const e of Object.values(doc.index) as Doc[]) e.path = e.path.replace(/\.json$/, '.sjson');
  edit(doc);
  m.setText(rel, gpg.clearsign(dumpJson(doc)));
};
const sjson = (rel: string) => rel.replace(/\.json$/, '.sjson');
/** Replaces the signature block of a clearsigned file with one from __fixtures__/signatures. */
const graftSignature = async (m: Mirror, rel: string, fixture: string) => {
  const armor = await readFile(path.join(import.meta.dirname, '__fixtures__/signatures', fixture), 'utf8');
  const text = m.text(rel);
  m.setText(rel, text.slice(0, text.indexOf('-----BEGIN PGP SIGNATURE-----')) + armor);
};

interface Case {
  rule: string;
  name: string;
  break: (m: Mirror) => void | Promise<void>;
  /** Start from the signed twin tree and load it through index.sjson. */
  signed?: boolean;
  /** Options for both the good and the broken run. */
  options?: MaasCheckOptions;
  /** Options for the broken run only (when the option itself is the break). */
  breakOptions?: MaasCheckOptions;
  /** The importers the findings must name. */
  maas?: Array<'3.7' | '3.8'>;
  severity?: MaasFinding['severity'];
}

const cases: Case[] = [
  // 1
  { rule: 'R-IDX-01', name: 'index without "updated"', maas: ['3.8'], break: (m) => m.edit(INDEX, (d) => delete d.updated) },
  { rule: 'R-IDX-01', name: 'empty "index" object', break: (m) => m.edit(INDEX, (d) => (d.index = {})) },
  { rule: 'R-IDX-01', name: 'index format "index:2.0"', maas: ['3.7'], break: (m) => m.edit(INDEX, (d) => (d.format = 'index:2.0')) },
  {
    rule: 'R-IDX-01',
    name: 'no index.sjson when a signed stream is required',
    signed: true,
    options: { requireSigned: true },
    break: (m) => {
      for (const rel of [...m.files.keys()]) if (rel.endsWith('.sjson')) m.delete(rel);
    },
  },
  // 2
  { rule: 'R-SIG-02', name: 'clearsigned index without its "Hash:" armor header', signed: true, maas: ['3.7'], break: (m) => m.setText(SINDEX, m.text(SINDEX).replace(/^Hash: SHA512\n/m, '')) },
  { rule: 'R-SIG-02', name: 'two armor header lines', signed: true, maas: ['3.7'], break: (m) => m.setText(sjson(V3), m.text(sjson(V3)).replace(/^Hash: SHA512\n/m, 'Hash: SHA512\nComment: second header\n')) },
  { rule: 'R-SIG-02', name: 'byte order mark before the BEGIN line', signed: true, break: (m) => m.setText(sjson(CENTOS), `\uFEFF${m.text(sjson(CENTOS))}`) },
  {
    rule: 'R-SIG-02',
    name: 'signed products file differs from its unsigned twin',
    signed: true,
    break: (m) => resign(m, sjson(V3), (d) => (d.updated = 'Thu, 26 Nov 2026 09:00:00 +0000')),
  },
  {
    rule: 'R-SIG-02',
    name: 'a version 6 signature (openpgp.js v6 key), which gpgv cannot read',
    signed: true,
    break: (m) => graftSignature(m, sjson(V3), 'openpgpjs-v6-key.asc'),
  },
  {
    rule: 'R-SIG-02',
    name: 'an RFC 9580 Ed25519 (algorithm 27) signature, unknown to gpgv',
    signed: true,
    break: (m) => graftSignature(m, SINDEX, 'openpgpjs-v4-ed25519-algo27.asc'),
  },
  // 3
  {
    rule: 'R-SIG-03',
    name: 'index.sjson lists a .json products file',
    signed: true,
    break: (m) => resign(m, SINDEX, (d) => (d.index['com.ubuntu.maas:stable:centos-bases-download'].path = CENTOS)),
  },
  { rule: 'R-SIG-03', name: 'unsigned .json products file is clearsigned', break: (m) => m.setText(BOOTLOADERS, gpg.clearsign(m.text(BOOTLOADERS))) },
  // 4
  { rule: 'R-IDX-04', name: 'index entry with a "name" key', maas: ['3.8'], break: (m) => m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:v3:download'].name = 'v3')) },
  { rule: 'R-IDX-04', name: 'index entry datatype "release-notifications"', break: (m) => m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:v3:download'].datatype = 'release-notifications')) },
  { rule: 'R-IDX-04', name: 'index entry without format (3.7 skips it)', maas: ['3.7'], break: (m) => m.edit(INDEX, (d) => delete d.index['com.ubuntu.maas:stable:centos-bases-download'].format) },
  { rule: 'R-IDX-04', name: 'index entry without "updated"', maas: ['3.8'], break: (m) => m.edit(INDEX, (d) => delete d.index['com.ubuntu.maas:stable:centos-bases-download'].updated) },
  // 5
  {
    rule: 'R-IDX-05',
    name: 'index entry pointing at a missing file',
    break: (m) =>
      m.edit(INDEX, (d) => {
        d.index['com.ubuntu.maas:stable:missing'] = { ...d.index['com.ubuntu.maas:stable:centos-bases-download'], path: 'streams/v1/missing.json' };
      }),
  },
  {
    rule: 'R-IDX-05',
    name: 'a cloud image-ids stream in the index',
    break: (m) => {
      const path = 'streams/v1/com.ubuntu.cloud:released:download.json';
      const id = 'com.ubuntu.cloud:server:24.04:amd64';
      m.setText(
        path,
        dumpJson({
          content_id: 'com.ubuntu.cloud:released:download',
          datatype: 'image-downloads',
          format: 'products:1.0',
          updated: 'Wed, 25 Nov 2026 10:00:00 +0000',
          products: { [id]: { arch: 'amd64', os: 'ubuntu', release: 'noble', versions: { '20261120': { items: { 'disk1.img': { ftype: 'disk1.img', path: 'server/noble/20261120/disk1.img', sha256: 'a'.repeat(64), size: 1 } } } } } },
        }),
      );
      m.edit(INDEX, (d) => {
        d.index['com.ubuntu.cloud:released:download'] = { datatype: 'image-downloads', format: 'products:1.0', path, products: [id], updated: d.updated };
      });
    },
  },
  {
    rule: 'R-IDX-05',
    name: 'a nested index in the index',
    maas: ['3.8'],
    break: (m) => {
      m.setText('streams/v1/more.json', m.text(INDEX));
      m.edit(INDEX, (d) => {
        d.index['com.ubuntu.maas:more'] = { ...d.index['com.ubuntu.maas:stable:centos-bases-download'], format: 'index:1.0', path: 'streams/v1/more.json' };
      });
    },
  },
  // 6
  { rule: 'R-PROD-06', name: 'products file without "updated"', maas: ['3.8'], break: (m) => m.edit(V3, (d) => delete d.updated) },
  { rule: 'R-PROD-06', name: 'products datatype "content-download"', break: (m) => m.edit(CENTOS, (d) => (d.datatype = 'content-download')) },
  { rule: 'R-PROD-06', name: 'products format "products:2.0"', maas: ['3.7'], break: (m) => m.edit(BOOTLOADERS, (d) => (d.format = 'products:2.0')) },
  // 7
  {
    rule: 'R-PROD-07',
    name: 'a bootloader product inside the Ubuntu images file',
    break: (m) => {
      const arm = 'com.ubuntu.maas.stable:1:grub-efi:uefi:arm64';
      const bl = JSON.parse(m.text(BOOTLOADERS)) as Doc;
      m.edit(V3, (d) => (d.products[arm] = { ...bl.products[UEFI], arch: 'arm64', arches: 'arm64', os: 'grub-efi' }));
      addToIndex(m, 'com.ubuntu.maas:stable:v3:download', arm);
    },
  },
  {
    rule: 'R-PROD-07',
    name: 'a multi-file version that also has root-tgz',
    break: (m) =>
      m.edit(V3, (d) => (newestOf(d.products[RESOLUTE]).items['root-tgz'] = { ftype: 'root-tgz', path: 'resolute/amd64/20261120/root.tgz', sha256: 'b'.repeat(64), size: 10 })),
  },
  // 8
  { rule: 'R-PROD-08', name: 'product with a "product_name" key', maas: ['3.8'], break: (m) => m.edit(V3, (d) => (d.products[NOBLE].product_name = NOBLE)) },
  { rule: 'R-PROD-08', name: 'version with a "version_name" key', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).version_name = '20261118')) },
  {
    rule: 'R-PROD-08',
    name: 'an item named like a version field',
    break: (m) =>
      m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items['support_eol'] = { ftype: 'manifest', path: 'noble/amd64/20261118/eol.txt', sha256: 'c'.repeat(64), size: 11 })),
  },
  { rule: 'R-PROD-08', name: 'product with no versions', break: (m) => m.edit(V3, (d) => (d.products[RESOLUTE].versions = {})) },
  // 9
  {
    rule: 'R-FIELDS-09',
    name: '"label" hoisted to the top level (3.7 inherits it, 3.8 does not)',
    maas: ['3.8'],
    break: (m) =>
      m.edit(V3, (d) => {
        d.label = 'stable';
        for (const p of Object.values(d.products) as Doc[]) delete p.label;
      }),
  },
  { rule: 'R-FIELDS-09', name: '"subarches" as a list', break: (m) => m.edit(V3, (d) => (d.products[NOBLE].subarches = d.products[NOBLE].subarches.split(','))) },
  { rule: 'R-FIELDS-09', name: '"release_title" null', break: (m) => m.edit(V3, (d) => (d.products[NOBLE].release_title = null)) },
  { rule: 'R-FIELDS-09', name: 'bootloader without "arches"', break: (m) => m.edit(BOOTLOADERS, (d) => delete d.products[UEFI].arches) },
  { rule: 'R-FIELDS-09', name: 'image product without "arch" anywhere', maas: ['3.7', '3.8'], break: (m) => m.edit(CENTOS, (d) => delete d.products[CENTOS8].arch) },
  // 10
  { rule: 'R-ITEMS-10', name: 'an old version without manifest (3.8 checks every version)', maas: ['3.8'], break: (m) => m.edit(V3, (d) => delete d.products[NOBLE].versions['20261020'].items.manifest) },
  { rule: 'R-ITEMS-10', name: 'the newest version without boot-kernel', maas: ['3.7', '3.8'], break: (m) => m.edit(V3, (d) => delete newestOf(d.products[RESOLUTE]).items['boot-kernel']) },
  { rule: 'R-ITEMS-10', name: 'a single-file version without root-tgz', break: (m) => m.edit(CENTOS, (d) => delete newestOf(d.products[CENTOS8]).items['root-tgz']) },
  {
    rule: 'R-ITEMS-10',
    name: 'a bootloader version without any bootloader item',
    break: (m) =>
      m.edit(BOOTLOADERS, (d) => {
        const items = newestOf(d.products[UEFI]).items;
        items['grub2-extra'] = items['grub2-signed'];
        delete items['grub2-signed'];
        delete items['shim-signed'];
      }),
  },
  // 11
  {
    rule: 'R-FIELDS-11',
    name: 'sha256 on the version instead of the item',
    maas: ['3.8'],
    break: (m) =>
      m.edit(V3, (d) => {
        const v = newestOf(d.products[NOBLE]);
        v.sha256 = v.items.squashfs.sha256;
        delete v.items.squashfs.sha256;
      }),
  },
  { rule: 'R-FIELDS-11', name: 'bootloader item without src_release', maas: ['3.8'], break: (m) => m.edit(BOOTLOADERS, (d) => delete newestOf(d.products[UEFI]).items['shim-signed'].src_release) },
  { rule: 'R-FIELDS-11', name: 'size 1.5', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.manifest.size = 1.5)) },
  { rule: 'R-FIELDS-11', name: 'no ftype on an item of the newest version', maas: ['3.7', '3.8'], break: (m) => m.edit(V3, (d) => delete newestOf(d.products[RESOLUTE]).items['boot-initrd'].ftype) },
  // 12
  { rule: 'R-DATE-12', name: 'support_eol ""', maas: ['3.8'], break: (m) => m.edit(V3, (d) => (d.products[NOBLE].support_eol = '')) },
  { rule: 'R-DATE-12', name: 'version support_esm_eol "2034/04/25"', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).support_esm_eol = '2034/04/25')) },
  { rule: 'R-DATE-12', name: 'products "updated" with a GMT zone', severity: 'fatal', break: (m) => m.edit(V3, (d) => (d.updated = 'Wed, 25 Nov 2026 10:00:00 GMT')) },
  { rule: 'R-DATE-12', name: 'index "updated" in ISO 8601 (accepted by 3.8 only as a fallback)', severity: 'warning', break: (m) => m.edit(INDEX, (d) => (d.updated = '2026-11-25T10:00:00+00:00')) },
  // 13
  { rule: 'R-URL-13', name: 'item path with ":" in its first segment', maas: ['3.8'], break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.squashfs.path = 'noble:amd64/20261118/squashfs')) },
  { rule: 'R-URL-13', name: 'item path with a space', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.squashfs.path = 'noble/amd64/20261118/my squashfs')) },
  { rule: 'R-URL-13', name: 'item path with ".."', maas: ['3.7', '3.8'], break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.manifest.path = 'noble/../noble/amd64/20261118/squashfs.manifest')) },
  { rule: 'R-URL-13', name: 'absolute index entry path', break: (m) => m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:1:bootloader-download'].path = `/${BOOTLOADERS}`)) },
  // 14
  {
    rule: 'R-DL-14',
    name: 'a data file whose content changed (same size)',
    options: { checkData: true },
    break: (m) => {
      const rel = 'resolute/amd64/20261120/squashfs';
      const b = Buffer.from(m.files.get(rel)!);
      b[0] = b[0]! ^ 1;
      m.setText(rel, b);
    },
  },
  { rule: 'R-DL-14', name: 'a missing data file', options: { checkData: true }, break: (m) => m.delete('noble/amd64/20261118/ga-24.04/generic/boot-kernel') },
  { rule: 'R-DL-14', name: 'uppercase sha256', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.squashfs.sha256 = newestOf(d.products[NOBLE]).items.squashfs.sha256.toUpperCase())) },
  // 15
  { rule: 'R-ITEMS-15', name: 'bootloader item ftype "tar.xz"', break: (m) => m.edit(BOOTLOADERS, (d) => (newestOf(d.products[UEFI]).items['grub2-signed'].ftype = 'tar.xz')) },
  { rule: 'R-ITEMS-15', name: 'squashfs item with ftype "squashfs-image"', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.squashfs.ftype = 'squashfs-image')) },
  { rule: 'R-ITEMS-15', name: 'manifest item with ftype "squashfs.manifest"', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.manifest.ftype = 'squashfs.manifest')) },
  // 16
  { rule: 'R-ITEMS-16', name: 'two items of a version with the same basename', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items['boot-initrd'].path = 'noble/amd64/20261118/boot-kernel')) },
  { rule: 'R-ITEMS-16', name: 'a basename of 256 characters', break: (m) => m.edit(V3, (d) => (newestOf(d.products[NOBLE]).items.manifest.path = `noble/${'m'.repeat(256)}`)) },
  // 17
  {
    rule: 'R-DL-17',
    name: 'uefi/amd64 archives without bootx64.efi',
    options: { checkData: true },
    break: async (m) => replaceData(m, BOOTLOADERS, UEFI, 'shim-signed', await tarXz({ 'mmx64.efi': 'mm\n' })),
  },
  {
    rule: 'R-DL-17',
    name: 'bootloader files in a subdirectory of the archive',
    options: { checkData: true },
    break: async (m) => replaceData(m, BOOTLOADERS, UEFI, 'shim-signed', await tarXz({ 'EFI/bootx64.efi': 'shim\n', 'mmx64.efi': 'mm\n' })),
  },
  {
    rule: 'R-DL-17',
    name: 'a gzip archive with the ftype archive.tar.xz',
    options: { checkData: true },
    break: async (m) => replaceData(m, BOOTLOADERS, UEFI, 'grub2-signed', await tarXz({ 'grubx64.efi': 'grub\n' }, '-z')),
  },
  // 18
  {
    rule: 'R-VER-18',
    name: 'a published item whose sha256 and size changed',
    options: {},
    break: (m) =>
      m.edit(V3, (d) => {
        const sq = newestOf(d.products[RESOLUTE]).items.squashfs;
        sq.sha256 = 'd'.repeat(64);
        sq.size += 1;
      }),
  },
  // 19
  { rule: 'R-LIM-19', name: 'a label of 33 characters', break: (m) => m.edit(V3, (d) => (d.products[NOBLE].label = 'l'.repeat(33))) },
  { rule: 'R-LIM-19', name: 'an arch with "/"', break: (m) => m.edit(V3, (d) => (d.products[RESOLUTE].arch = 'amd64/v2')) },
  { rule: 'R-LIM-19', name: 'an empty release', break: (m) => m.edit(CENTOS, (d) => (d.products[CENTOS8].release = '')) },
  // 20
  {
    rule: 'R-FILTER-20',
    name: 'an Ubuntu product id without ":v3:"',
    break: (m) => {
      const id = 'com.ubuntu.maas.stable:boot:24.04:amd64:ga-24.04';
      m.edit(V3, (d) => {
        d.products[id] = d.products[NOBLE];
        delete d.products[NOBLE];
      });
      m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:v3:download'].products = [id, RESOLUTE]));
    },
  },
  {
    rule: 'R-FILTER-20',
    name: 'a bootloader product id without ":1:"',
    break: (m) => {
      const id = 'com.ubuntu.maas.stable:grub-efi-signed:uefi:amd64';
      m.edit(BOOTLOADERS, (d) => {
        d.products[id] = d.products[UEFI];
        delete d.products[UEFI];
      });
      m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:1:bootloader-download'].products = [id]));
    },
  },
  // 21
  { rule: 'R-FILTER-21', name: 'a uefi/grub-efi-signed bootloader for i386', severity: 'warning', break: (m) => m.edit(BOOTLOADERS, (d) => (d.products[UEFI].arch = 'i386')) },
  // 22
  { rule: 'R-KFLAVOR-22', name: 'no kflavor (3.8 registers "ga-24.04-None")', maas: ['3.8'], break: (m) => m.edit(V3, (d) => delete d.products[NOBLE].kflavor) },
  {
    rule: 'R-KFLAVOR-22',
    name: 'the kflavor already in subarch',
    break: (m) =>
      m.edit(V3, (d) => {
        const p = d.products[NOBLE];
        p.kflavor = 'lowlatency';
        p.subarch = 'ga-24.04-lowlatency';
        p.subarches += ',ga-24.04-lowlatency';
      }),
  },
  {
    rule: 'R-KFLAVOR-22',
    name: 'a subarch that does not parse',
    break: (m) =>
      m.edit(V3, (d) => {
        d.products[NOBLE].subarch = 'ga-';
        d.products[NOBLE].subarches += ',ga-';
      }),
  },
  // 23
  { rule: 'R-KFLAVOR-23', name: 'the GA generic kernel without "generic" in subarches', break: (m) => m.edit(V3, (d) => (d.products[NOBLE].subarches = d.products[NOBLE].subarches.replace('generic,', ''))) },
  // 24
  {
    rule: 'R-VER-24',
    name: 'version names 20261118.9 and 20261118.10',
    break: (m) =>
      m.edit(V3, (d) => {
        const p = d.products[NOBLE];
        p.versions['20261118.9'] = structuredClone(p.versions['20261118']);
        p.versions['20261118.10'] = structuredClone(p.versions['20261118']);
      }),
  },
  // 25
  {
    rule: 'R-ITEMS-25',
    name: 'both squashfs and root-image.gz',
    break: (m) =>
      m.edit(V3, (d) => (newestOf(d.products[RESOLUTE]).items['root-image.gz'] = { ftype: 'root-image.gz', path: 'resolute/amd64/20261120/root-image.gz', sha256: 'e'.repeat(64), size: 12 })),
  },
  // 26
  { rule: 'R-SEL-26', name: 'os "ubuntu-server"', break: (m) => m.edit(V3, (d) => (d.products[RESOLUTE].os = 'ubuntu-server')) },
  { rule: 'R-SEL-26', name: 'release "Resolute"', break: (m) => m.edit(V3, (d) => (d.products[RESOLUTE].release = 'Resolute')) },
  { rule: 'R-SEL-26', name: 'version "24.4" (not YY.MM, not the GA kernel version)', break: (m) => m.edit(V3, (d) => (d.products[NOBLE].version = '24.4')) },
  // 27
  { rule: 'R-KFLAVOR-27', name: 'boot-kernel without kpackage', break: (m) => m.edit(V3, (d) => delete newestOf(d.products[NOBLE]).items['boot-kernel'].kpackage) },
  // 28
  { rule: 'R-FIELDS-28', name: 'LTS release_title without "LTS"', severity: 'warning', break: (m) => m.edit(V3, (d) => (d.products[NOBLE].release_title = '24.04')) },
  { rule: 'R-FIELDS-28', name: 'no release_codename', break: (m) => m.edit(V3, (d) => delete d.products[RESOLUTE].release_codename) },
  { rule: 'R-FIELDS-28', name: 'LTS product without support_eol', break: (m) => m.edit(V3, (d) => delete d.products[NOBLE].support_eol) },
  // 29
  {
    rule: 'R-FILTER-29',
    name: 'no 24.04 amd64 image (MAAS 3.7 and 3.8 commission with noble)',
    severity: 'warning',
    maas: ['3.7', '3.8'],
    break: (m) => {
      m.edit(V3, (d) => delete d.products[NOBLE]);
      m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:v3:download'].products = [RESOLUTE]));
    },
  },
  { rule: 'R-FILTER-29', name: 'a commissioning release the stream lacks', breakOptions: { commissioningRelease: 'jammy' }, break: () => {} },
  // 30
  { rule: 'R-IDX-30', name: 'index product list missing a product', break: (m) => m.edit(INDEX, (d) => (d.index['com.ubuntu.maas:stable:v3:download'].products = [RESOLUTE])) },
  { rule: 'R-IDX-30', name: 'a duplicate JSON key', break: (m) => m.setText(CENTOS, m.text(CENTOS).replace('"label": "stable",', '"label": "stable",\n   "label": "stable",')) },
  {
    rule: 'R-IDX-30',
    name: 'two products describing the same image',
    break: (m) => {
      const copy = `${NOBLE}-copy`;
      m.edit(V3, (d) => (d.products[copy] = structuredClone(d.products[NOBLE])));
      addToIndex(m, 'com.ubuntu.maas:stable:v3:download', copy);
    },
  },
];

describe('checkMaasStream on the known-good stream', () => {
  it('finds nothing, data included, when read with loadStream', async () => {
    const stream = await loadStream(GOOD_DIR);
    expect(stream.products).toHaveLength(3);
    expect(await checkMaasStream(stream, { checkData: true })).toEqual([]);
  });

  it('finds nothing in its gpg-clearsigned twin, read through index.sjson', async () => {
    const dir = path.join(tmp, 'signed');
    await signedGood.writeTo(dir);
    const stream = await loadStream(dir, { path: SINDEX, policy: 'off' });
    expect(stream.indexPath).toBe(SINDEX);
    expect(stream.products.map((p) => p.path).every((p) => p.endsWith('.sjson'))).toBe(true);
    expect(await checkMaasStream(stream, { requireSigned: true, checkData: true })).toEqual([]);
    // the same tree read through index.json: the signed twins are compared from the other side
    expect(await checkMaasStream(await loadStream(dir), { requireSigned: true })).toEqual([]);
  });

  it('runs gpgv like MAAS: the binary keyring passes, an armored one and a tampered file do not', async () => {
    const dir = path.join(tmp, 'signed-gpgv');
    await signedGood.writeTo(dir);
    const binary = await gpg.exportKeyring(false);
    const stream = await loadStream(dir, { path: SINDEX, policy: 'off' });
    expect(await checkMaasStream(stream, { gpgvKeyrings: [binary] })).toEqual([]);

    const armored = await checkMaasStream(stream, { gpgvKeyrings: [await gpg.exportKeyring(true)] });
    expect(rulesOf(armored)).toEqual(['R-SIG-02']);
    expect(armored.map((f) => f.file).sort()).toEqual([SINDEX, ...[BOOTLOADERS, CENTOS, V3].map(sjson)].sort());
    expect(armored[0]!.consequence).toContain('binary keyring');

    const m = signedGood.clone();
    m.setText(sjson(CENTOS), m.text(sjson(CENTOS)).replace('"CentOS 8"', '"CentOS 9"'));
    const tampered = await checkMaasStream(m.load(SINDEX), { gpgvKeyrings: [binary] });
    expect(rulesOf(tampered)).toEqual(['R-SIG-02']);
    expect(tampered.find((f) => f.message.startsWith('gpgv'))?.message).toMatch(/BAD signature/);
  });

  it('finds nothing from the documents alone (no source)', async () => {
    const { index, indexPath, products } = good.load();
    expect(await checkMaasDocuments({ ...(index ? { index } : {}), ...(indexPath ? { indexPath } : {}), products }, {})).toEqual([]);
  });

  it('has a broken-stream test for every §3 assertion', () => {
    expect(MAAS_RULES).toHaveLength(30);
    expect(MAAS_RULES.map((r) => r.assertion)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(new Set(cases.map((c) => c.rule))).toEqual(new Set(MAAS_RULES.map((r) => r.id)));
  });
});

describe('checkMaasStream on a stream broken in exactly one way', () => {
  it.each(cases)('$rule: $name', async (c) => {
    const base = c.signed ? signedGood : good;
    const indexPath = c.signed ? SINDEX : INDEX;
    const options: MaasCheckOptions = { ...c.options };
    if (c.rule === 'R-VER-18') options.previous = good.load();
    // the unbroken stream does not report the rule
    expect(rulesOf(await checkMaasStream(base.load(indexPath), options))).toEqual([]);

    const m = base.clone();
    await c.break(m);
    const loadFrom = c.signed && m.files.has(indexPath) ? indexPath : INDEX;
    const findings = await checkMaasStream(m.load(loadFrom), { ...options, ...c.breakOptions });
    expect(rulesOf(findings), JSON.stringify(findings, null, 1)).toEqual([c.rule]);
    for (const f of findings) {
      expect(f.message.length).toBeGreaterThan(10);
      expect(f.consequence).toMatch(/MAAS/);
      if (c.maas) expect(f.maas).toEqual(c.maas);
      if (c.severity) expect(f.severity).toBe(c.severity);
    }
  });
});

describe('what each finding names', () => {
  it('names file, product, version and item, and what MAAS does', async () => {
    const m = good.clone();
    m.edit(V3, (d) => delete d.products[NOBLE].versions['20261020'].items.manifest);
    const [f, ...rest] = await checkMaasStream(m.load(), {});
    expect(rest).toEqual([]);
    expect(f).toEqual({
      rule: 'R-ITEMS-10',
      severity: 'fatal',
      maas: ['3.8'],
      file: V3,
      productId: NOBLE,
      version: '20261020',
      message: expect.stringContaining('no "manifest" item'),
      consequence: expect.stringContaining('MAAS 3.8 rejects the whole boot source'),
    });
  });

  it('stops reading data when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(checkMaasStream(good.load(), { checkData: true, signal: controller.signal })).rejects.toThrow('stop');
  });

  it('keeps only the findings of the importer asked for', async () => {
    const m = good.clone();
    m.edit(V3, (d) => {
      d.label = 'stable';
      for (const p of Object.values(d.products) as Doc[]) delete p.label;
    });
    expect(await checkMaasStream(m.load(), { maasVersion: '3.7' })).toEqual([]);
    expect(rulesOf(await checkMaasStream(m.load(), { maasVersion: '3.8' }))).toEqual(['R-FIELDS-09']);
  });
});

describe('the real MAAS excerpt (maas-site-manager ss_product_noble.json)', () => {
  const load = async () => {
    const doc = JSON.parse(await readFile(EXCERPT, 'utf8')) as ProductsDocument;
    return { products: [{ path: 'ss_product_noble.json', doc }] };
  };

  it('lacks only "updated"', async () => {
    const stream = await loadStream(EXCERPT);
    expect(stream.index).toBeUndefined();
    const findings = await checkMaasStream(stream, { maasVersion: 'both' });
    expect(await checkMaasDocuments(await load())).toEqual(findings);
    expect(rulesOf(findings)).toEqual(['R-PROD-06']);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('"updated" is missing');
    expect(findings[0]!.maas).toEqual(['3.8']);
  });

  it('offers noble, the release MAAS 3.7 and 3.8 commission with, whatever distro-info says today', async () => {
    for (const maasVersion of ['3.7', '3.8', 'both'] as const) expect(rulesOf(await checkMaasDocuments(await load(), { maasVersion }))).not.toContain('R-FILTER-29');
    // the override: a site commissioning with resolute
    const findings = await checkMaasDocuments(await load(), { commissioningRelease: 'resolute' });
    expect(rulesOf(findings)).toEqual(['R-FILTER-29', 'R-PROD-06']);
    expect(findings.find((f) => f.rule === 'R-FILTER-29')!.maas).toEqual(['3.7', '3.8']);
  });
});

// Streams shaped like the ones MAAS imports (written from maas-acceptance §1.10/§4 and the
// original's conf/meph-v3.yaml): hwe-* and *-edge products without their own subarch in
// `subarches`, lowlatency flavours, every supported bootloader, CentOS bases. Zero findings.
describe('the regression corpus of accepted streams (__fixtures__/accepted)', () => {
  const names = readdirSync(ACCEPTED_DIR).sort();

  it('holds the documented shapes', () => {
    expect(names).toEqual(['bootloaders', 'centos-bases', 'stable-full', 'ubuntu-hwe-edge']);
  });

  it.each(names)('%s: no finding for MAAS 3.7, 3.8 or both', async (name) => {
    const stream = await loadStream(path.join(ACCEPTED_DIR, name));
    for (const maasVersion of ['3.7', '3.8', 'both'] as const) {
      const findings = await checkMaasStream(stream, { maasVersion });
      expect(findings, JSON.stringify(findings.slice(0, 3), null, 1)).toEqual([]);
    }
  });

  it('its hwe and edge products really lack their own subarch in subarches', async () => {
    const stream = await loadStream(path.join(ACCEPTED_DIR, 'ubuntu-hwe-edge'));
    const products = Object.values(stream.products[0]!.doc.products) as Array<Record<string, string>>;
    const hwe = products.filter((p) => p['subarch']!.startsWith('hwe-'));
    expect(hwe.length).toBeGreaterThanOrEqual(8);
    for (const p of hwe) expect(p['subarches']!.split(',')).not.toContain(p['subarch']);
    expect(products.some((p) => p['subarch']!.endsWith('-edge') && p['kflavor'] === 'lowlatency')).toBe(true);
  });
});
