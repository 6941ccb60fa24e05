import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

// yaml (~30 ms to load) is required on first use: every stream-editing command imports this
// module through the ops barrel, and only diff/patch read or write YAML (start-up, issue 14).
const requireYaml = createRequire(import.meta.url);
let yamlLib: typeof Yaml | undefined;
const yaml = (): typeof Yaml => (yamlLib ??= requireYaml('yaml') as typeof Yaml);
import { PatchFormatError } from './errors.js';

/** Labels a product or version belongs to; `{}` / null / absent = none. */
export type LabelList = string[];

export interface VersionPatch {
  labels?: LabelList;
}

/** One product-regex entry: `labels`, `versions`, and metadata keys mapping label → value. */
export interface ProductPatch {
  labels?: LabelList;
  versions?: Record<string, VersionPatch>;
  metadata: Record<string, Record<string, unknown>>;
}

export interface StreamPatch {
  /** diff output only: that side lacks this products file. */
  notMerged?: string;
  products: Record<string, ProductPatch>;
}

/** Stream files by label-less name (`com.ubuntu.maas:v3:download.json`), upstream §2.8. */
export type PatchDocument = Record<string, StreamPatch>;

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function labelsOf(value: unknown, where: string, source: string): LabelList {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map(String);
  if (isMap(value) && Object.keys(value).length === 0) return [];
  if (typeof value === 'string') return [value];
  throw new PatchFormatError(source, `${where}: labels must be a list of stream labels, or {} for none`);
}

/** The tag as written at `pos` (e.g. `!!js/function`). */
function tagAt(text: string, pos: number): string {
  return /^!\S*/.exec(text.slice(pos))?.[0] ?? 'tag';
}

/**
 * Reads a patch document (the format `diff` writes and `conf/cpc-patch.yaml` uses). YAML 1.2
 * core schema, so an unquoted date stays the string it looks like (the original turned it into
 * a date object, hence the "quote your dates" note in its examples). An empty document gives {}.
 */
export function parsePatch(text: string, source: string): PatchDocument {
  let raw: unknown;
  try {
    // parseDocument collects warnings instead of printing them; a patch is plain data, so an
    // unknown tag (`!!js/function`, `!!python/object`) is an error, reported in one line.
    const parsed = yaml().parseDocument(text);
    const problem = parsed.errors[0] ?? parsed.warnings[0];
    if (problem) {
      const at = problem.linePos?.[0];
      const what = problem.code === 'TAG_RESOLVE_FAILED' ? `unknown YAML tag ${tagAt(text, problem.pos[0])} (a patch holds plain YAML only)` : problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new PatchFormatError(source, `${at ? `line ${at.line}: ` : ''}not valid YAML: ${what}`);
    }
    raw = parsed.toJS();
  } catch (err) {
    if (err instanceof PatchFormatError) throw err;
    throw new PatchFormatError(source, `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return {};
  if (!isMap(raw)) throw new PatchFormatError(source, 'expected a mapping of products file names to product entries');
  const doc: PatchDocument = {};
  for (const [streamKey, streamValue] of Object.entries(raw)) {
    if (streamValue === null) {
      doc[streamKey] = { products: {} };
      continue;
    }
    if (!isMap(streamValue)) throw new PatchFormatError(source, `${streamKey}: expected a mapping of product regexes`);
    const stream: StreamPatch = { products: {} };
    for (const [key, value] of Object.entries(streamValue)) {
      if (key === 'not_merged') {
        stream.notMerged = String(value);
        continue;
      }
      const where = `${streamKey} / ${key}`;
      if (value === null) {
        stream.products[key] = { metadata: {} };
        continue;
      }
      if (!isMap(value)) throw new PatchFormatError(source, `${where}: expected a mapping (labels, versions or metadata keys)`);
      const product: ProductPatch = { metadata: {} };
      for (const [field, fieldValue] of Object.entries(value)) {
        if (field === 'labels') product.labels = labelsOf(fieldValue, where, source);
        else if (field === 'versions') {
          if (!isMap(fieldValue)) throw new PatchFormatError(source, `${where}: versions must map version names to {labels: […]}`);
          product.versions = {};
          for (const [ver, vspec] of Object.entries(fieldValue)) {
            if (vspec !== null && !isMap(vspec)) throw new PatchFormatError(source, `${where} / versions / ${ver}: expected {labels: […]} or {}`);
            product.versions[ver] = { labels: labelsOf(vspec?.['labels'], `${where} / versions / ${ver}`, source) };
          }
        } else {
          if (!isMap(fieldValue)) throw new PatchFormatError(source, `${where} / ${field}: expected a mapping of stream label to value`, 'e.g. support_eol: {candidate: "2030-07-22", stable: "2030-07-22"}');
          product.metadata[field] = fieldValue;
        }
      }
      stream.products[key] = product;
    }
    doc[streamKey] = stream;
  }
  return doc;
}

/** The plain object a patch document is written as (keys sorted when stringified). */
function toPlain(doc: PatchDocument): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [streamKey, stream] of Object.entries(doc)) {
    const s: Record<string, unknown> = {};
    if (stream.notMerged !== undefined) s['not_merged'] = stream.notMerged;
    for (const [pid, p] of Object.entries(stream.products)) {
      const e: Record<string, unknown> = { ...p.metadata };
      if (p.labels !== undefined) e['labels'] = p.labels;
      if (p.versions !== undefined) e['versions'] = Object.fromEntries(Object.entries(p.versions).map(([v, vp]) => [v, vp.labels?.length ? { labels: vp.labels } : {}]));
      s[pid] = e;
    }
    out[streamKey] = s;
  }
  return out;
}

export interface PatchHeader {
  generator: string;
  date: string;
  source: string;
  target: string;
  newVersionsOnly: boolean;
  latestOnly: boolean;
  promote: boolean;
}

const py = (b: boolean): string => (b ? 'True' : 'False');

/**
 * Writes a patch document in the original's layout: header comments, keys sorted, block lists
 * at the key's indentation, version names and date-like strings quoted.
 */
export function formatPatch(doc: PatchDocument, header: PatchHeader): string {
  const lines = [
    `# Generated by ${header.generator}`,
    `# Generated on ${header.date}`,
    `# Source: ${header.source}`,
    `# Target: ${header.target}`,
    `# new-versions-only: ${py(header.newVersionsOnly)}`,
    `# latest-only: ${py(header.latestOnly)}`,
    `# promote: ${py(header.promote)}`,
    '',
  ];
  const body = Object.keys(doc).length
    ? yaml().stringify(toPlain(doc), { indentSeq: false, version: '1.1', singleQuote: true, lineWidth: 0, sortMapEntries: true })
    : '';
  return lines.join('\n') + body;
}
