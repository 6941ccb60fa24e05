import type { MaasFinding, MaasSeverity, MaasVersion } from './types.js';

/**
 * What happens in MAAS when a rule is broken, in the words an operator needs (MAAS itself
 * usually says no more than "Ignoring unsupported product" or "Failed to fetch image manifest").
 */
export type MaasEffect = 'source' | 'file-skipped' | 'download' | 'skip-product' | 'mismap' | 'degraded';

const EFFECT_TEXT: Record<MaasEffect, string> = {
  source:
    'rejects the whole boot source: nothing from it is imported or updated (the UI shows only "Failed to fetch image manifest" or a failed import)',
  'file-skipped': 'silently skips this products file: none of its products appear',
  download: 'lists the image, but it never becomes ready: downloading or syncing this file fails',
  'skip-product':
    'silently skips this product (at most "Ignoring unsupported product" in the log): it is never downloaded',
  mismap: 'imports it but maps it wrongly (kernel, subarch or root file): machines may boot the wrong thing or fail to deploy',
  degraded: 'imports it, but titles, the LTS list or the commissioning release are wrong or missing',
};

export interface MaasRule {
  id: string;
  /** The assertion's number in maas-acceptance.md §3. */
  assertion: number;
  severity: MaasSeverity;
  effect: MaasEffect;
  title: string;
}

function rule(id: string, assertion: number, severity: MaasSeverity, effect: MaasEffect, title: string): MaasRule {
  return { id, assertion, severity, effect, title };
}

/**
 * Every check, one per §3 assertion. Severity: §3's S1 → fatal, S2 and S3 → error, S4 → warning
 * (rule 21 is a warning by the checklist's own words).
 */
export const MAAS_RULES = [
  rule('R-IDX-01', 1, 'fatal', 'source', 'index exists, format index:1.0, updated present, index object non-empty'),
  rule('R-SIG-02', 2, 'fatal', 'source', 'clearsigned documents have the armor layout MAAS parses and equal their unsigned twin'),
  rule('R-SIG-03', 3, 'fatal', 'source', 'index.sjson lists .sjson files, index.json lists .json files, unsigned files are plain JSON'),
  rule('R-IDX-04', 4, 'fatal', 'source', 'index entries carry path, format products:1.0, updated, products list, known datatype; no "name" key'),
  rule('R-IDX-05', 5, 'fatal', 'source', 'every index entry is an existing MAAS products file of a supported kind'),
  rule('R-PROD-06', 6, 'fatal', 'source', 'products file: format, content_id (= index key), datatype, updated, non-empty products'),
  rule('R-PROD-07', 7, 'fatal', 'source', 'one product kind per file; multi-file versions carry no root-tgz'),
  rule('R-PROD-08', 8, 'fatal', 'source', 'every product has versions and every version items; no reserved key names'),
  rule('R-FIELDS-09', 9, 'fatal', 'source', 'required product fields are physically on the product, as strings'),
  rule('R-ITEMS-10', 10, 'fatal', 'source', 'every version (old ones too) has the item keys its kind requires'),
  rule('R-FIELDS-11', 11, 'fatal', 'source', 'every item carries ftype, path, sha256, size (bootloaders also src_*) itself'),
  rule('R-DATE-12', 12, 'fatal', 'source', 'updated is RFC 2822 with a numeric zone; support_eol/support_esm_eol are YYYY-MM-DD'),
  rule('R-URL-13', 13, 'fatal', 'source', 'index and item paths are relative, without "..", scheme or ":" in the first segment, URL-safe'),
  rule('R-DL-14', 14, 'error', 'download', 'files of the newest version exist with the listed size and checksums (lowercase hex)'),
  rule('R-ITEMS-15', 15, 'error', 'download', 'ftype values are ones MAAS knows; image items are keyed by their ftype'),
  rule('R-ITEMS-16', 16, 'error', 'download', 'item file basenames are unique within a version and at most 255 characters'),
  rule('R-DL-17', 17, 'error', 'download', 'bootloader archives are tar.xz with the served files at the archive root, no unsafe members'),
  rule('R-VER-18', 18, 'error', 'download', 'published (product, version, item) files never change'),
  rule('R-LIM-19', 19, 'error', 'download', 'names fit MAAS database columns (32 characters); os/release/arch/subarch non-empty, no "/"'),
  rule('R-FILTER-20', 20, 'error', 'skip-product', 'product names carry the stream generation (":v3:" for images, ":1:" for bootloaders)'),
  rule('R-FILTER-21', 21, 'warning', 'skip-product', 'bootloader (type, os, arch) is one of the four MAAS downloads'),
  rule('R-KFLAVOR-22', 22, 'error', 'mismap', 'kflavor present; subarch parses and does not contain the kflavor'),
  rule('R-KFLAVOR-23', 23, 'error', 'mismap', 'the GA generic kernel lists "generic" in subarches'),
  rule('R-VER-24', 24, 'error', 'mismap', 'version names sort chronologically as plain strings'),
  rule('R-ITEMS-25', 25, 'error', 'mismap', 'a version has exactly one of squashfs / root-image.gz'),
  rule('R-SEL-26', 26, 'error', 'mismap', 'os is a MAAS OS name; Ubuntu release is a codename, version YY.MM matching ga-<version>'),
  rule('R-KFLAVOR-27', 27, 'error', 'mismap', 'boot-kernel items carry kpackage'),
  rule('R-FIELDS-28', 28, 'warning', 'degraded', 'LTS products: release_title ends in "LTS", support_eol set, release_codename present'),
  rule('R-FILTER-29', 29, 'warning', 'degraded', 'the release the MAAS version commissions with (noble for 3.7 and 3.8) is offered for amd64'),
  rule('R-IDX-30', 30, 'warning', 'degraded', 'index product lists match the files; images unique across the stream; no duplicate JSON keys'),
] as const satisfies readonly MaasRule[];

export type MaasRuleId = (typeof MAAS_RULES)[number]['id'];

const BY_ID = new Map<string, MaasRule>(MAAS_RULES.map((r) => [r.id, r]));

export function maasRule(id: MaasRuleId): MaasRule {
  const r = BY_ID.get(id);
  if (!r) throw new Error(`unknown MAAS rule ${id}`);
  return r;
}

function who(maas: readonly MaasVersion[]): string {
  if (maas.length === 2) return 'MAAS (3.7 and 3.8)';
  return maas[0] === '3.8' ? 'MAAS 3.8' : 'MAAS 3.7 and older';
}

export function consequenceText(effect: MaasEffect, maas: readonly MaasVersion[]): string {
  return `${who(maas)} ${EFFECT_TEXT[effect]}.`;
}

export interface ReportInput {
  maas: readonly MaasVersion[];
  message: string;
  file?: string | undefined;
  productId?: string | undefined;
  version?: string | undefined;
  item?: string | undefined;
  severity?: MaasSeverity;
  effect?: MaasEffect;
  /** Extra words appended to the consequence. */
  detail?: string;
  /** Replaces the generated consequence (when the importers react differently). */
  consequence?: string;
}

/** Collects findings in discovery order. */
export class FindingList {
  readonly findings: MaasFinding[] = [];

  report(id: MaasRuleId, input: ReportInput): void {
    const r = maasRule(id);
    const maas = (['3.7', '3.8'] as const).filter((v) => input.maas.includes(v));
    const finding: MaasFinding = {
      rule: r.id,
      severity: input.severity ?? r.severity,
      maas,
      message: input.message,
      consequence:
        (input.consequence ?? consequenceText(input.effect ?? r.effect, maas)) + (input.detail ? ` ${input.detail}` : ''),
    };
    if (input.file !== undefined) finding.file = input.file;
    if (input.productId !== undefined) finding.productId = input.productId;
    if (input.version !== undefined) finding.version = input.version;
    if (input.item !== undefined) finding.item = input.item;
    this.findings.push(finding);
  }
}

export const BOTH: readonly MaasVersion[] = ['3.7', '3.8'];
export const NEW: readonly MaasVersion[] = ['3.8'];
export const OLD: readonly MaasVersion[] = ['3.7'];
