import type { MaasDocuments, MaasVersion } from './types.js';
import { BOTH, NEW, FindingList } from './rules.js';
import type { CheckedProduct } from './check-products.js';
import { flattened, isRecord, records, versionItems } from './kinds.js';

/**
 * The Ubuntu release each MAAS version commissions with by default: a hard-coded value
 * (`get_lts_release()` returns "noble" in 3.8; 3.7 defaults to noble), not distro-info's LTS of the day.
 */
export const MAAS_COMMISSIONING_RELEASE: Readonly<Record<MaasVersion, string>> = { '3.7': 'noble', '3.8': 'noble' };

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/**
 * Rule 29: an Ubuntu stream offers, for amd64, the release each checked MAAS version commissions
 * with (`override` for all of them, else MAAS_COMMISSIONING_RELEASE).
 */
export function checkCommissioningRelease(list: FindingList, products: CheckedProduct[], versions: readonly MaasVersion[], override?: string): void {
  const ubuntu = products.filter((p) => p.kind === 'multi-file' && str(flattened('os', p.doc, p.product)) === 'ubuntu');
  if (ubuntu.length === 0) return; // not a stream MAAS commissions from (bootloaders, CentOS…)
  const wanted = new Map<string, MaasVersion[]>();
  for (const v of versions) {
    const release = override ?? MAAS_COMMISSIONING_RELEASE[v];
    wanted.set(release, [...(wanted.get(release) ?? []), v]);
  }
  for (const [release, maas] of wanted) {
    const offered = ubuntu.some((p) => str(flattened('release', p.doc, p.product)) === release && str(flattened('arch', p.doc, p.product)) === 'amd64');
    if (offered) continue;
    list.report('R-FILTER-29', {
      maas,
      message: `no Ubuntu "${release}" amd64 image: the stream does not offer the release MAAS ${maas.join(' and ')} commissions with${override ? ' (as given)' : ' by default'}`,
      consequence: 'MAAS raises "commissioning_series_unavailable" unless another boot source offers it; commissioning and enlistment then fail.',
    });
  }
}

/** Rule 30: one image per (os, release, arch, subarch, kflavor, label) across the stream. */
export function checkUniqueImages(list: FindingList, products: CheckedProduct[]): void {
  const seen = new Map<string, CheckedProduct>();
  for (const p of products) {
    if (!p.kind) continue;
    const f = (name: string) => str(flattened(name, p.doc, p.product));
    const key =
      p.kind === 'bootloader'
        ? ['bootloader', f('os'), f('arch'), f('bootloader-type'), f('label')]
        : ['image', f('os'), f('release'), f('arch'), f('subarch'), f('kflavor') || 'generic', f('label')];
    const id = key.join('\0');
    const first = seen.get(id);
    if (first) {
      list.report('R-IDX-30', {
        maas: BOTH,
        file: p.file,
        productId: p.id,
        message: `describes the same image as "${first.id}"${first.file !== p.file ? ` in ${first.file}` : ''} (${key.slice(1).join(', ')})`,
        consequence: 'MAAS keeps only one of them (the first it reads); the other is never offered.',
      });
    } else seen.set(id, p);
  }
}

/** Rule 30: an index entry's product list names exactly the products of its file. */
export function checkIndexProductList(list: FindingList, indexPath: string, key: string, entry: unknown, doc: unknown): void {
  if (!isRecord(entry) || !Array.isArray(entry['products']) || !isRecord(doc) || !isRecord(doc['products'])) return;
  const listed = new Set(entry['products'].map(String));
  const actual = new Set(Object.keys(doc['products']));
  const missing = [...actual].filter((p) => !listed.has(p));
  const extra = [...listed].filter((p) => !actual.has(p));
  if (missing.length + extra.length === 0) return;
  const parts = [];
  if (missing.length) parts.push(`does not list ${missing.length} product(s) of the file (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`);
  if (extra.length) parts.push(`lists ${extra.length} product(s) the file lacks (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`);
  list.report('R-IDX-30', {
    maas: BOTH,
    file: indexPath,
    message: `index entry "${key}" ${parts.join(' and ')}`,
    consequence: 'MAAS does not compare them, but clients that filter by the index (sstream-mirror, meph) miss or look for the wrong products; regenerate the index.',
  });
}

/** Rule 18: files of a published (product, version, item) never change. */
export function checkImmutable(list: FindingList, products: CheckedProduct[], previous: MaasDocuments): void {
  const before = new Map<string, Record<string, unknown>>();
  for (const file of previous.products) {
    for (const [pid, product] of records((file.doc as unknown as Record<string, unknown>)['products'])) {
      for (const [vname, version] of records(product['versions'])) {
        for (const [iname, item] of versionItems(version)) before.set([pid, vname, iname].join('\0'), item);
      }
    }
  }
  for (const p of products) {
    for (const [vname, version] of records(p.product['versions'])) {
      for (const [iname, item] of versionItems(version)) {
        const old = before.get([p.id, vname, iname].join('\0'));
        if (!old) continue;
        const changed = (['sha256', 'size'] as const).filter((f) => old[f] !== undefined && item[f] !== old[f]);
        if (changed.length === 0) continue;
        list.report('R-VER-18', {
          maas: BOTH,
          file: p.file,
          productId: p.id,
          version: vname,
          item: iname,
          message: `published item changed its ${changed.join(' and ')} (${changed.map((f) => `${String(old[f])} → ${String(item[f])}`).join(', ')}); publish a new version instead`,
          consequence:
            'MAAS 3.7 and older log "Hash mismatch" and download it again; MAAS 3.8 replaces the file under machines that may be using it.',
        });
      }
    }
  }
}
