import type { MaasVersion } from './types.js';
import { compareVersions } from '@meph/simplestreams';
import { BOTH, NEW, OLD, FindingList, consequenceText, type ReportInput, type MaasRuleId } from './rules.js';
import { isIsoUpdated, isRfc2822Updated, isSupportDate } from './dates.js';
import { basename, maasPathProblem } from './paths.js';
import {
  BOOTLOADER_ITEM_KEYS,
  MAAS_FTYPES,
  MAAS_OS_NAMES,
  MODEL_ITEM_KEYS,
  SUPPORTED_BOOTLOADERS,
  VERSION_MODEL_FIELDS,
  classifyProduct,
  describeType,
  flattened,
  foundElsewhere,
  isRecord,
  newestVersion,
  records,
  versionItems,
  type ProductKind,
  type Rec,
} from './kinds.js';

export const DATATYPES = ['image-ids', 'image-downloads'];

/** A product of a checked file, for the stream-wide rules. */
export interface CheckedProduct {
  file: string;
  id: string;
  product: Rec;
  doc: Rec;
  kind: ProductKind | undefined;
}

interface Where {
  file: string;
  productId?: string;
  version?: string;
  item?: string;
}

class Scope {
  constructor(
    private readonly list: FindingList,
    readonly where: Where,
  ) {}
  at(more: Omit<Where, 'file'>): Scope {
    return new Scope(this.list, { ...this.where, ...more });
  }
  report(id: MaasRuleId, maas: readonly MaasVersion[], message: string, extra: Partial<ReportInput> = {}): void {
    this.list.report(id, { ...this.where, ...extra, maas, message });
  }
}

const LIMIT_32_FIELDS = ['os', 'arch', 'subarch', 'release', 'label', 'kflavor', 'bootloader-type'];
const UBUNTU_STREAM_NAME = /:(v2|v3|v3\+platform):/i;

/** Rule 12 for an `updated` value that is present (presence is rule 1/4/6). */
export function checkUpdatedFormat(scope: { report: Scope['report'] }, value: unknown, what: string): void {
  if (typeof value !== 'string') return;
  if (isRfc2822Updated(value)) return;
  if (isIsoUpdated(value)) {
    scope.report('R-DATE-12', NEW, `${what} "${value}" is ISO 8601, not RFC 2822 ("Thu, 24 Jul 2025 08:01:49 +0000")`, {
      severity: 'warning',
      consequence: 'MAAS 3.8 accepts it only through its ISO fallback; other simplestreams clients expect RFC 2822.',
    });
    return;
  }
  scope.report(
    'R-DATE-12',
    NEW,
    `${what} "${value}" is not an RFC 2822 date with a numeric zone (write e.g. "Thu, 24 Jul 2025 08:01:49 +0000")`,
  );
}

function checkSupportDate(scope: Scope, holder: Rec, field: string, level: string): void {
  const v = holder[field];
  if (v === undefined || v === null) return;
  if (v === '') {
    scope.report('R-DATE-12', NEW, `${level} ${field} is "" (leave it out or write YYYY-MM-DD)`);
  } else if (typeof v !== 'string' || !isSupportDate(v)) {
    scope.report('R-DATE-12', BOTH, `${level} ${field} ${JSON.stringify(v)} is not a YYYY-MM-DD date`);
  }
}

/**
 * Everything that can be judged from one products document alone (§3 rules 6–16, 19–28; the
 * static half of 14).
 */
export function checkProductsDocument(
  list: FindingList,
  file: string,
  value: unknown,
  indexKey?: string,
): CheckedProduct[] {
  const scope = new Scope(list, { file });
  if (!isRecord(value)) {
    scope.report('R-PROD-06', BOTH, `${file} is ${describeType(value)}, not a products document`);
    return [];
  }
  const doc = value;
  // rule 6: the document header
  if (doc['format'] !== 'products:1.0') {
    scope.report('R-PROD-06', OLD, `format is ${JSON.stringify(doc['format'])}, not "products:1.0"`);
  }
  if (typeof doc['content_id'] !== 'string') {
    scope.report('R-PROD-06', BOTH, `content_id is ${doc['content_id'] === undefined ? 'missing' : describeType(doc['content_id'])}`);
  } else if (indexKey !== undefined && doc['content_id'] !== indexKey) {
    scope.report('R-PROD-06', BOTH, `content_id "${doc['content_id']}" differs from its index key "${indexKey}"`, {
      severity: 'warning',
      consequence:
        'Neither importer compares them, but tools that look products files up by content id (sstream-mirror, meph) find the wrong file or none.',
    });
  }
  if (doc['datatype'] === undefined) {
    scope.report('R-PROD-06', NEW, 'datatype is missing (write "image-ids" or "image-downloads")');
  } else if (!DATATYPES.includes(doc['datatype'] as string)) {
    scope.report('R-PROD-06', NEW, `datatype ${JSON.stringify(doc['datatype'])} is not "image-ids" or "image-downloads"`);
  }
  if (doc['updated'] === undefined) {
    scope.report('R-PROD-06', NEW, 'top-level "updated" is missing (an RFC 2822 date such as "Thu, 24 Jul 2025 08:01:49 +0000")');
  } else if (typeof doc['updated'] !== 'string') {
    scope.report('R-PROD-06', NEW, `top-level "updated" is ${describeType(doc['updated'])}, not a string`);
  } else {
    checkUpdatedFormat(scope, doc['updated'], 'top-level "updated"');
  }
  const products = records(doc['products']);
  if (!isRecord(doc['products']) || products.length === 0) {
    scope.report('R-PROD-06', NEW, `"products" is ${isRecord(doc['products']) ? 'empty' : 'missing'}`);
    return [];
  }

  const checked: CheckedProduct[] = products.map(([id, product]) => ({ file, id, product, doc, kind: classifyProduct(product, doc) }));
  const fileKind = checkKinds(scope, checked);
  if (fileKind === undefined) return checked;
  for (const p of checked) checkProduct(scope.at({ productId: p.id }), p, p.kind ?? fileKind);
  return checked;
}

/** Rules 5 and 7: what kind the file is, and whether it is only that. */
function checkKinds(scope: Scope, checked: CheckedProduct[]): ProductKind | undefined {
  const counts = new Map<ProductKind, number>();
  for (const p of checked) if (p.kind) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
  if (counts.size === 0) {
    scope.report(
      'R-IDX-05',
      NEW,
      'no product in this file is a MAAS image or bootloader (no boot-kernel, squashfs, root-tgz or bootloader items): it is not a MAAS products file',
      { detail: 'MAAS 3.7 and older ignore its products. Offer MAAS an index without this file.' },
    );
    return undefined;
  }
  const kinds = [...counts.entries()].sort((a, b) => b[1] - a[1]);
  if (kinds.length > 1) {
    const desc = kinds.map(([k, n]) => `${n} ${k}`).join(', ');
    scope.report('R-PROD-07', NEW, `products of different kinds in one file (${desc}); put each kind in its own products file`);
  }
  return kinds[0]![0];
}

function checkProduct(scope: Scope, p: CheckedProduct, kind: ProductKind | undefined): void {
  const { product, doc } = p;
  // rule 8
  if ('product_name' in product) scope.report('R-PROD-08', NEW, 'product has a key "product_name", which MAAS 3.8 reserves for the product id');
  const versions = records(product['versions']);
  if (!isRecord(product['versions']) || versions.length === 0) {
    scope.report('R-PROD-08', NEW, `product has ${isRecord(product['versions']) ? 'an empty' : 'no'} "versions" object`, {
      detail: 'MAAS 3.7 and older have nothing to import for it.',
    });
  }
  checkProductFields(scope, p, kind);
  const newest = newestVersion(product);
  for (const [name, version] of versions) checkVersion(scope.at({ version: name }), p, kind, name, version, name === newest);
  if (kind) checkNaming(scope, p, kind);
  checkVersionOrder(scope, versions.map(([n]) => n));
}

const PRODUCT_FIELDS: Record<ProductKind, string[]> = {
  bootloader: ['arch', 'label', 'os', 'arches', 'bootloader-type'],
  'multi-file': ['arch', 'label', 'os', 'release', 'release_title', 'subarch', 'subarches', 'version'],
  'single-file': ['arch', 'label', 'os', 'release', 'release_title', 'subarch', 'subarches', 'version'],
};
/** Fields the 3.7 importer indexes directly (the rest have defaults or are optional there). */
const OLD_REQUIRED: Record<ProductKind, Set<string>> = {
  bootloader: new Set(['arch', 'label', 'bootloader-type']),
  'multi-file': new Set(['arch', 'label', 'release']),
  'single-file': new Set(['arch', 'label', 'release']),
};

/** Rule 9, plus product-level support_eol (12). */
function checkProductFields(scope: Scope, p: CheckedProduct, kind: ProductKind | undefined): void {
  const { product, doc } = p;
  for (const field of PRODUCT_FIELDS[kind ?? 'multi-file']) {
    const v = product[field];
    if (typeof v === 'string') continue;
    if (v === undefined) {
      const where = foundElsewhere(field, product, doc);
      if (where) {
        scope.report('R-FIELDS-09', NEW, `"${field}" is not on the product but at the ${where}; MAAS 3.8 reads it only on the product`, {
          detail: 'MAAS 3.7 and older still find it through inheritance.',
        });
      } else {
        const maas = kind && OLD_REQUIRED[kind].has(field) ? BOTH : NEW;
        scope.report('R-FIELDS-09', maas, `product has no "${field}"`);
      }
    } else if (field === 'subarches' && Array.isArray(v)) {
      scope.report('R-FIELDS-09', NEW, '"subarches" is a list; MAAS needs a comma-separated string ("generic,hwe-p,ga-24.04")');
    } else {
      scope.report('R-FIELDS-09', NEW, `"${field}" is ${describeType(v)}, not a string`);
    }
  }
  checkSupportDate(scope, product, 'support_eol', 'product');
}

function checkVersion(scope: Scope, p: CheckedProduct, kind: ProductKind | undefined, name: string, version: Rec, newest: boolean): void {
  const items = versionItems(version);
  const keys = new Set(items.map(([k]) => k));
  // rule 8
  if ('version_name' in version) scope.report('R-PROD-08', NEW, 'version has a key "version_name", which MAAS 3.8 reserves for the version name');
  if (items.length === 0) {
    scope.report('R-PROD-08', NEW, `version has ${isRecord(version['items']) ? 'an empty' : 'no'} "items" object`);
  }
  for (const key of keys) {
    if (VERSION_MODEL_FIELDS.includes(key) || (key in version && key !== 'items')) {
      scope.report('R-PROD-08', NEW, `item "${key}" has the name of a version field and overwrites it in MAAS 3.8`, { item: key });
    }
  }
  checkSupportDate(scope, version, 'support_eol', 'version');
  checkSupportDate(scope, version, 'support_esm_eol', 'version');
  if (kind) checkItemSet(scope, kind, keys, newest);
  const basenames = new Map<string, string>();
  for (const [key, item] of items) {
    const iscope = scope.at({ item: key });
    checkItem(iscope, p, kind, version, key, item, newest);
    const path = item['path'];
    if (typeof path === 'string') {
      const base = basename(path);
      const other = basenames.get(base);
      if (other !== undefined) {
        iscope.report('R-ITEMS-16', BOTH, `item path basename "${base}" is also used by item "${other}" of this version; MAAS stores files by basename`);
      } else basenames.set(base, key);
      if (base.length > 255) iscope.report('R-ITEMS-16', BOTH, `item path basename is ${base.length} characters long (MAAS stores at most 255)`);
    }
  }
  // rule 19: version names go into a 32-character column in 3.8
  if (name.length > 32) scope.report('R-LIM-19', NEW, `version name is ${name.length} characters long (at most 32)`);
}

/** Rules 7 (second half), 10 and 25. */
function checkItemSet(scope: Scope, kind: ProductKind, keys: Set<string>, newest: boolean): void {
  const missing = (k: string) => !keys.has(k);
  const has = [...keys].sort().join(', ') || 'none';
  const report = (message: string, brokenForOld: boolean) =>
    scope.report('R-ITEMS-10', brokenForOld ? BOTH : NEW, message, {
      consequence:
        consequenceText('source', NEW) +
        (brokenForOld ? ` ${consequenceText('download', OLD)} (its newest version has no complete set of files)` : ''),
    });
  if (kind === 'bootloader') {
    if (!BOOTLOADER_ITEM_KEYS.some((k) => keys.has(k))) {
      report(`bootloader version has none of the items ${BOOTLOADER_ITEM_KEYS.join(', ')} (it has: ${has})`, newest);
    }
    return;
  }
  if (kind === 'single-file') {
    for (const k of ['root-tgz', 'manifest']) if (missing(k)) report(`version has no "${k}" item (it has: ${has})`, newest && k !== 'manifest');
    return;
  }
  for (const k of ['boot-kernel', 'boot-initrd', 'manifest']) if (missing(k)) report(`version has no "${k}" item (it has: ${has})`, newest && k !== 'manifest');
  const hasSquash = keys.has('squashfs');
  const hasRootImage = keys.has('root-image.gz');
  if (!hasSquash && !hasRootImage) report(`version has neither a "squashfs" nor a "root-image.gz" item (it has: ${has})`, newest);
  if (hasSquash && hasRootImage) {
    scope.report('R-ITEMS-25', BOTH, 'version has both "squashfs" and "root-image.gz"; keep exactly one root filesystem', {
      consequence:
        'MAAS 3.7 and older silently ignore root-image.gz; MAAS 3.8 downloads both and serves whichever the region lists first.',
    });
  }
  if (keys.has('root-tgz')) {
    scope.report('R-PROD-07', NEW, 'multi-file version also has a "root-tgz" item; MAAS 3.8 may take the product for a single-file (root-tgz) image and ignore its kernel');
  }
}

const ITEM_FIELDS = ['ftype', 'path', 'sha256', 'size'];
const BOOTLOADER_ITEM_FIELDS = ['src_package', 'src_release', 'src_version'];
const KEY_IS_FTYPE = new Set(['boot-kernel', 'boot-initrd', 'squashfs', 'root-image.gz', 'root-tgz']);

/** Rules 11, 13, 14 (static part), 15 and 27 for one item. */
function checkItem(scope: Scope, p: CheckedProduct, kind: ProductKind | undefined, version: Rec, key: string, item: Rec, newest: boolean): void {
  const { product, doc } = p;
  const modelItem = kind !== undefined && MODEL_ITEM_KEYS[kind].includes(key);
  const ftypeSeen = flattened('ftype', doc, product, version, item);
  // 3.7 inserts an item of the newest version when its ftype is one MAAS knows
  const oldInserts = newest && (ftypeSeen === undefined || MAAS_FTYPES.has(String(ftypeSeen)));
  const fields = kind === 'bootloader' && modelItem ? [...ITEM_FIELDS, ...BOOTLOADER_ITEM_FIELDS] : ITEM_FIELDS;
  for (const field of fields) {
    const v = item[field];
    if (v === undefined) {
      const inherited = flattened(field, doc, product, version);
      const oldMisses = oldInserts && inherited === undefined && ITEM_FIELDS.includes(field);
      if (!modelItem && !oldMisses) continue;
      const maas: MaasVersion[] = [];
      if (oldMisses) maas.push('3.7');
      if (modelItem) maas.push('3.8');
      scope.report(
        'R-FIELDS-11',
        maas,
        inherited === undefined ? `item has no "${field}"` : `"${field}" is on a higher level, not on the item; MAAS 3.8 reads it only on the item`,
      );
      continue;
    }
    if (field === 'size') {
      const readers: MaasVersion[] = [...(oldInserts ? (['3.7'] as const) : []), ...(modelItem ? (['3.8'] as const) : [])];
      if (readers.length > 0) checkSize(scope, v, readers);
    } else if (typeof v !== 'string' && modelItem) {
      scope.report('R-FIELDS-11', NEW, `item "${field}" is ${describeType(v)}, not a string`);
    }
  }
  const path = item['path'];
  if (typeof path === 'string') {
    const problem = maasPathProblem(path);
    if (problem) scope.report('R-URL-13', problem.maas, `item path "${path}" ${problem.reason}`);
  }
  if (newest) checkChecksumFormats(scope, item);
  const ftype = item['ftype'];
  if (typeof ftype === 'string' && kind) checkFtype(scope, kind, key, ftype, modelItem);
  if (key === 'boot-kernel' && kind === 'multi-file') {
    const kp = item['kpackage'];
    if (kp === undefined || kp === null) {
      const inherited = flattened('kpackage', doc, product, version);
      if (inherited === undefined) {
        scope.report('R-KFLAVOR-27', BOTH, 'boot-kernel item has no "kpackage"; MAAS cannot tell curtin which kernel package to install');
      } else {
        scope.report('R-KFLAVOR-27', NEW, '"kpackage" is on a higher level, not on the boot-kernel item; MAAS 3.8 reads it only on the item');
      }
    }
  }
}

/** `readers`: the importers that read this item. */
function checkSize(scope: Scope, v: unknown, readers: readonly MaasVersion[]): void {
  if (typeof v === 'number' && Number.isInteger(v)) {
    if (v < 0) scope.report('R-FIELDS-11', readers, `item size is negative (${v})`, { severity: 'error', effect: 'download' });
    return;
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    scope.report('R-FIELDS-11', readers, `item size is the string "${v}", not a JSON integer`, {
      severity: 'warning',
      consequence: 'MAAS accepts it, but other simplestreams clients may not.',
    });
    return;
  }
  scope.report('R-FIELDS-11', readers, `item size ${JSON.stringify(v)} is not a whole number of bytes`);
}

function checkChecksumFormats(scope: Scope, item: Rec): void {
  const sha256 = item['sha256'];
  if (typeof sha256 === 'string' && !/^[0-9a-f]{64}$/.test(sha256)) {
    scope.report('R-DL-14', BOTH, `sha256 "${sha256}" is not 64 lowercase hexadecimal digits; MAAS compares it as a string and it never matches`);
  }
  for (const [field, len] of [['md5', 32], ['sha512', 128]] as const) {
    const v = item[field];
    if (v !== undefined && (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(v))) {
      scope.report('R-DL-14', OLD, `${field} ${JSON.stringify(v)} is not ${len} lowercase hexadecimal digits; older importers check it too`);
    }
  }
}

/** Rule 15. */
function checkFtype(scope: Scope, kind: ProductKind, key: string, ftype: string, modelItem: boolean): void {
  if (kind === 'bootloader') {
    if (modelItem && ftype !== 'archive.tar.xz') {
      scope.report('R-ITEMS-15', BOTH, `bootloader item has ftype "${ftype}"; MAAS only extracts "archive.tar.xz"`);
    }
    return;
  }
  if (key === 'manifest') {
    if (ftype !== 'manifest') scope.report('R-ITEMS-15', BOTH, `manifest item has ftype "${ftype}", not "manifest"`);
    return;
  }
  if (KEY_IS_FTYPE.has(key) && ftype !== key) {
    const known = MAAS_FTYPES.has(ftype);
    scope.report('R-ITEMS-15', BOTH, `item "${key}" has ftype "${ftype}"; image items must use their key as ftype`, {
      detail: known ? 'MAAS files it under the wrong type.' : 'MAAS 3.8 fails on an unknown file type; 3.7 logs "Ignoring unsupported filetype" and skips it.',
    });
    return;
  }
  if (modelItem && !MAAS_FTYPES.has(ftype)) {
    scope.report('R-ITEMS-15', BOTH, `item ftype "${ftype}" is not a MAAS file type`);
  }
}

/** Rules 19–23, 26 and 28: names and kernel metadata of a product. */
function checkNaming(scope: Scope, p: CheckedProduct, kind: ProductKind): void {
  const { product, doc, id } = p;
  const get = (f: string): unknown => flattened(f, doc, product);
  const str = (f: string): string | undefined => {
    const v = get(f);
    return typeof v === 'string' ? v : undefined;
  };
  // rule 19
  for (const f of LIMIT_32_FIELDS) {
    const v = str(f);
    if (v !== undefined && v.length > 32) scope.report('R-LIM-19', BOTH, `"${f}" is ${v.length} characters long (MAAS stores at most 32)`);
  }
  const subarches = str('subarches');
  for (const entry of subarches?.split(',').map((s) => s.trim()) ?? []) {
    if (entry.length > 32) scope.report('R-LIM-19', BOTH, `subarches entry "${entry}" is ${entry.length} characters long (at most 32)`);
  }
  const slashFields = kind === 'bootloader' ? ['os', 'arch'] : ['os', 'release', 'arch', 'subarch'];
  for (const f of slashFields) {
    const v = str(f);
    if (v === undefined) continue;
    if (v === '') scope.report('R-LIM-19', BOTH, `"${f}" is empty`);
    else if (v.includes('/')) scope.report('R-LIM-19', BOTH, `"${f}" "${v}" contains "/", which MAAS uses to split resource names`);
  }

  if (kind === 'bootloader') {
    // rule 20, 21
    if (!id.includes(':1:')) scope.report('R-FILTER-20', BOTH, `bootloader product name "${id}" does not contain ":1:"`);
    const combo = [str('bootloader-type'), str('os'), str('arch')];
    if (combo.every((v) => v !== undefined) && !SUPPORTED_BOOTLOADERS.some((s) => s.every((v, i) => v === combo[i]))) {
      scope.report('R-FILTER-21', BOTH, `bootloader (type, os, arch) = (${combo.join(', ')}) is not one MAAS downloads`, {
        consequence: 'MAAS lists it in the image catalogue but never downloads it.',
      });
    }
    return;
  }

  const os = str('os');
  const subarch = str('subarch');
  const version = str('version');
  const kflavor = product['kflavor'];
  if (kind === 'multi-file') {
    // rule 20
    if (!UBUNTU_STREAM_NAME.test(id)) {
      const oldChecks = (os ?? 'ubuntu').includes('ubuntu') && os !== 'ubuntu-core';
      scope.report('R-FILTER-20', oldChecks ? BOTH : NEW, `image product name "${id}" contains none of ":v2:", ":v3:", ":v3+platform:"`);
    }
    // rule 22
    if (kflavor === undefined || kflavor === null) {
      scope.report('R-KFLAVOR-22', NEW, `product has no "kflavor"${get('kflavor') !== undefined ? ' on the product itself' : ''} (write "generic" for the generic kernel)`, {
        detail: 'Its kernel is registered as "<subarch>-None".',
      });
    } else if (typeof kflavor === 'string' && subarch !== undefined && kflavor !== 'generic' && subarch.includes(kflavor)) {
      scope.report('R-KFLAVOR-22', NEW, `subarch "${subarch}" already contains the kflavor "${kflavor}"; keep the flavour out of subarch`, {
        detail: `MAAS 3.8 registers it as "${subarch}-${kflavor}".`,
      });
    }
  }
  if (subarch !== undefined && /(^|-)(ga|hwe)(-|$)/.test(subarch) && !/^(?:[a-z0-9][a-z0-9.+_]*-)?(?:ga|hwe(?:-edge)?)-[a-z0-9.]+(?:-[a-z0-9.]+)?(?:-edge)?$/.test(subarch)) {
    scope.report('R-KFLAVOR-22', BOTH, `subarch "${subarch}" does not parse as [platform-](ga|hwe[-edge])-<release>[-flavour][-edge]`);
  }
  // rule 23
  if (subarches !== undefined && subarch !== undefined) {
    const list = subarches.split(',').map((s) => s.trim());
    // The product's own subarch need not be listed: MAAS matches it before the list (hwe-*/edge
    // products of real streams never list it).
    const flavour = typeof kflavor === 'string' ? kflavor : 'generic';
    if (version !== undefined && subarch === `ga-${version}` && flavour === 'generic' && !list.includes('generic')) {
      scope.report('R-KFLAVOR-23', BOTH, 'the GA generic kernel product does not list "generic" in subarches; MAAS cannot enlist or commission unknown machines with it');
    }
  }
  // rule 26
  if (os !== undefined && !MAAS_OS_NAMES.has(os)) {
    scope.report('R-SEL-26', BOTH, `os "${os}" is not an operating system MAAS knows (${[...MAAS_OS_NAMES].join(', ')})`);
  }
  if (os === 'ubuntu') {
    const release = str('release');
    if (release !== undefined && !/^[a-z]+$/.test(release)) scope.report('R-SEL-26', BOTH, `Ubuntu release "${release}" is not a lowercase codename (e.g. "noble")`);
    if (version !== undefined && !/^\d{2}\.\d{2}$/.test(version)) scope.report('R-SEL-26', BOTH, `Ubuntu version "${version}" is not YY.MM`);
    const ga = subarch === undefined ? undefined : /(?:^|-)ga-([0-9.]+)/.exec(subarch)?.[1];
    if (ga !== undefined && version !== undefined && ga !== version) {
      scope.report('R-SEL-26', BOTH, `subarch "${subarch}" names GA kernel ${ga}, but the product's version is ${version}`);
    }
    // rule 28
    const lts = version !== undefined && /^(\d{2})\.04$/.test(version) && Number(version.slice(0, 2)) % 2 === 0;
    if (lts) {
      const title = str('release_title');
      if (title !== undefined && !title.endsWith('LTS')) scope.report('R-FIELDS-28', NEW, `LTS release_title "${title}" does not end in "LTS"`);
      if (product['support_eol'] === undefined || product['support_eol'] === null) {
        scope.report('R-FIELDS-28', NEW, 'LTS product has no support_eol on the product; MAAS 3.8 leaves it out of its LTS list');
      }
    }
    if (kind === 'multi-file' && product['release_codename'] === undefined) {
      scope.report('R-FIELDS-28', BOTH, 'product has no "release_codename" (e.g. "Noble Numbat")');
    }
  }
}

/** Rule 24: compares the importers' plain string order with the natural (numeric) order. */
function checkVersionOrder(scope: Scope, names: string[]): void {
  const sorted = [...names].sort(compareVersions);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (naturalCompare(a, b) > 0) {
      scope.report('R-VER-24', BOTH, `version "${b}" sorts after "${a}" as a string but is older; MAAS always takes the string-greatest version as the newest`, {
        detail: 'Use fixed-width names (YYYYMMDD, YYYYMMDD.N with N < 10, or zero-padded).',
      });
      return;
    }
  }
}

function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i]!;
    const y = tb[i]!;
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
    } else if (x !== y) return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}
