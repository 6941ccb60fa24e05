import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Pair } from 'yaml';
import { ConfigError } from '../errors.js';
import type { BuildConfig, BuiltinKernel, Distro, KernelHelperData, KernelLine, ReleaseConfig } from './types.js';

/** Top-level keys of the original format, plus meph's extensions (last four). */
const TOP_KEYS = [
  'subarches', 'misc', 'releases', 'squashfs', 'root_image', 'enable_di', 'enable_proposed',
  'proposed_packages', 'pre_purge_packages', 'default_target', 'content_id', 'product_id_pre', 'kname',
  'distro', 'os', 'label', 'mirror',
] as const;
const RELEASE_KEYS = [
  'version', 'release', 'builtin_kernel', 'kernels',
  'release_title', 'release_codename', 'support_eol', 'support_esm_eol',
] as const;
const KHDATA_KEYS = ['suffix', 'kihelper', 'di-format', 'dtb'] as const;
const TUPLE_FIELDS = ['krel', 'arch', 'subarch', 'flavor', 'package', 'subarches', 'khdata'] as const;
/** Substitutions `kname` may use, as `%(name)s`. */
export const KNAME_KEYS = ['krel', 'arch', 'subarch', 'flavor', 'kflavor', 'release', 'version', 'version_name'] as const;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** Names that end up in paths, product ids and MAAS columns: no separators, no spaces. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9.+_-]*$/;

/** Walks the YAML AST so every error can name the file, line and key. */
class Checker {
  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  lineOf(node: unknown): number | undefined {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.lines.linePos(range[0]).line : undefined;
  }

  fail(node: unknown, key: string, detail: string): never {
    throw new ConfigError(this.file, detail, this.lineOf(node), key);
  }

  /** Follows `*alias` references; the position stays that of the alias. */
  deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  map(node: unknown, key: string, allowed: readonly string[]): Map<string, Pair<unknown, unknown>> {
    const target = this.deref(node);
    if (!isMap(target)) this.fail(node, key, `must be a mapping, got ${describe(target)}`);
    const out = new Map<string, Pair<unknown, unknown>>();
    for (const pair of (target).items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : undefined;
      const name = key ? `${key}.${k}` : String(k);
      if (k === undefined) this.fail(pair.key ?? node, key, 'keys must be plain scalars');
      if (!allowed.includes(k)) this.fail(pair.key, name, `unknown key (allowed: ${allowed.join(', ')})`);
      out.set(k, pair);
    }
    return out;
  }

  seq(node: unknown, key: string): unknown[] {
    const target = this.deref(node);
    if (!isSeq(target)) this.fail(node, key, `must be a list, got ${describe(target)}`);
    return target.items;
  }

  str(node: unknown, key: string, pattern?: RegExp, what?: string): string {
    const target = this.deref(node);
    if (!isScalar(target) || typeof target.value !== 'string') {
      if (isScalar(target) && typeof target.value === 'number' && key.endsWith('version')) {
        this.fail(node, key, `must be a quoted string such as "${String(target.source ?? target.value)}", not a YAML number (24.10 would read as 24.1)`);
      }
      this.fail(node, key, `must be a string, got ${describe(target)}`);
    }
    const value = target.value;
    if (pattern && !pattern.test(value)) this.fail(node, key, `${JSON.stringify(value)} is not ${what ?? `a valid value (${pattern.source})`}`);
    return value;
  }

  bool(node: unknown, key: string): boolean {
    const target = this.deref(node);
    if (!isScalar(target) || typeof target.value !== 'boolean') this.fail(node, key, `must be true or false, got ${describe(target)}`);
    return target.value;
  }

  /** A CSV string (original) or a list of strings. */
  list(node: unknown, key: string): string[] {
    const target = this.deref(node);
    if (isScalar(target) && target.value === null) return [];
    if (isSeq(target)) return target.items.map((it, i) => this.str(it, `${key}[${i}]`, NAME_RE, 'a package name'));
    return this.str(node, key).split(/[\s,]+/).filter(Boolean);
  }
}

function describe(node: unknown): string {
  if (isScalar(node)) return node.value === null ? 'null' : `${typeof node.value} ${JSON.stringify(node.value)}`;
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  return 'nothing';
}

function parseKhdata(c: Checker, node: unknown, key: string): KernelHelperData {
  const out: KernelHelperData = {};
  for (const [k, pair] of c.map(node, key, KHDATA_KEYS)) {
    const v = c.str(pair.value, `${key}.${k}`);
    if (k === 'suffix') out.suffix = c.str(pair.value, `${key}.${k}`, /^[A-Za-z0-9._-]*$/, 'a file name suffix');
    else if (k === 'kihelper') out.kihelper = v;
    else if (k === 'di-format') out.diFormat = v;
    else out.dtb = c.str(pair.value, `${key}.${k}`, NAME_RE, 'a dtb file name');
  }
  return out;
}

function parseKernel(c: Checker, node: unknown, key: string): KernelLine {
  const fields = c.seq(node, key);
  if (fields.length < 6 || fields.length > 7) {
    c.fail(node, key, `a kernel line has 6 or 7 fields [${TUPLE_FIELDS.join(', ')}], got ${fields.length}`);
  }
  const f = (i: number): string => `${key}[${i}] (${TUPLE_FIELDS[i]})`;
  const subarches = c.seq(fields[5], f(5)).map((s, i) => c.str(s, `${f(5)}[${i}]`, NAME_RE, 'a subarch name'));
  if (subarches.length === 0) c.fail(fields[5], f(5), 'must list at least one subarch');
  return {
    krel: c.str(fields[0], f(0), NAME_RE, 'a release codename'),
    arch: c.str(fields[1], f(1), /^[a-z0-9]+$/, 'a dpkg architecture'),
    subarch: c.str(fields[2], f(2), NAME_RE, 'a subarch name'),
    flavor: c.str(fields[3], f(3), NAME_RE, 'a kernel flavour'),
    package: c.str(fields[4], f(4), /^[a-z0-9][a-z0-9.+-]+$/, 'a Debian package name'),
    subarches,
    khdata: fields[6] === undefined ? {} : parseKhdata(c, fields[6], f(6)),
    line: c.lineOf(node) ?? 0,
  };
}

function parseBuiltinKernel(c: Checker, node: unknown, key: string): BuiltinKernel {
  const target = c.deref(node);
  if (isScalar(target) && target.value === null) return null;
  if (isMap(target)) {
    const out: Record<string, string> = {};
    for (const pair of target.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : c.fail(pair.key ?? node, key, 'keys must be plain scalars');
      out[k] = c.str(pair.value, `${key}.${k}`);
    }
    return out;
  }
  return c.str(node, key);
}

function parseRelease(c: Checker, node: unknown, index: number): ReleaseConfig {
  const key = `releases[${index}]`;
  const m = c.map(node, key, RELEASE_KEYS);
  const need = (k: string): Pair<unknown, unknown> => m.get(k) ?? c.fail(node, `${key}.${k}`, 'is required');
  const release = c.str(need('release').value, `${key}.release`, NAME_RE, 'a release codename');
  const rkey = `releases[${release}]`;
  const version = c.str(need('version').value, `${rkey}.version`, /^[0-9][0-9.]*$/, 'a release version such as "24.04"');
  const kernels = c.seq(need('kernels').value, `${rkey}.kernels`).map((k, i) => parseKernel(c, k, `${rkey}.kernels[${i}]`));
  const out: ReleaseConfig = {
    version,
    release,
    builtinKernel: m.has('builtin_kernel') ? parseBuiltinKernel(c, m.get('builtin_kernel')!.value, `${rkey}.builtin_kernel`) : null,
    kernels,
    line: c.lineOf(node) ?? 0,
  };
  const opt = (k: string, pattern?: RegExp, what?: string): string | undefined =>
    m.has(k) ? c.str(m.get(k)!.value, `${rkey}.${k}`, pattern, what) : undefined;
  const title = opt('release_title');
  const codename = opt('release_codename');
  const eol = opt('support_eol', DATE_RE, 'a YYYY-MM-DD date');
  const esm = opt('support_esm_eol', DATE_RE, 'a YYYY-MM-DD date');
  if (title !== undefined) out.releaseTitle = title;
  if (codename !== undefined) out.releaseCodename = codename;
  if (eol !== undefined) out.supportEol = eol;
  if (esm !== undefined) out.supportEsmEol = esm;
  return out;
}

/**
 * Parses and validates config text. `file` is used in messages only. Throws ConfigError naming
 * the file, line and key of the first problem.
 */
export function parseBuildConfig(text: string, file: string): BuildConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0]?.line ?? lines.linePos(syntax.pos[0]).line;
    throw new ConfigError(file, `invalid YAML: ${syntax.message.split('\n')[0]}`, line);
  }
  const c = new Checker(file, doc, lines);
  if (doc.contents === null) throw new ConfigError(file, 'the file is empty');
  const top = c.map(doc.contents, '', TOP_KEYS);
  const get = (k: string): Pair<unknown, unknown> | undefined => top.get(k);
  const required = (k: string): Pair<unknown, unknown> => get(k) ?? c.fail(doc.contents, k, 'is required');
  const boolOr = (k: string, dflt: boolean): boolean => (get(k) ? c.bool(get(k)!.value, k) : dflt);
  const strOpt = (k: string, pattern?: RegExp, what?: string): string | undefined => (get(k) ? c.str(get(k)!.value, k, pattern, what) : undefined);

  // Anchor holders: data only, but they must still be lists.
  for (const k of ['subarches', 'misc']) if (get(k)) c.seq(get(k)!.value, k);

  const releases = c.seq(required('releases').value, 'releases').map((r, i) => parseRelease(c, r, i));
  const seen = new Map<string, ReleaseConfig>();
  for (const [i, r] of releases.entries()) {
    const prev = seen.get(r.release);
    if (prev) c.fail(c.seq(required('releases').value, 'releases')[i], `releases[${r.release}]`, `duplicate release (first defined on line ${prev.line})`);
    seen.set(r.release, r);
  }

  const distro = (strOpt('distro', /^(ubuntu|debian)$/, 'one of ubuntu, debian') ?? 'ubuntu') as Distro;
  const kname = strOpt('kname') ?? '%(krel)s';
  for (const m of kname.matchAll(/%\((\w+)\)s/g)) {
    if (!(KNAME_KEYS as readonly string[]).includes(m[1]!)) c.fail(get('kname')!.value, 'kname', `unknown substitution %(${m[1]})s (known: ${KNAME_KEYS.join(', ')})`);
  }
  if (/%(?!\(\w+\)s)/.test(kname)) c.fail(get('kname')!.value, 'kname', 'only %(name)s substitutions are supported');

  const squashfs = boolOr('squashfs', false);
  const rootImage = boolOr('root_image', false);
  if (!squashfs && !rootImage) {
    c.fail(get('squashfs')?.value ?? get('root_image')?.value ?? doc.contents, 'squashfs', 'neither squashfs nor root_image is enabled, so there is no image to publish (set squashfs: true)');
  }
  const config: BuildConfig = {
    file,
    releases,
    squashfs,
    rootImage,
    enableDi: boolOr('enable_di', false),
    enableProposed: boolOr('enable_proposed', false),
    proposedPackages: get('proposed_packages') ? c.list(get('proposed_packages')!.value, 'proposed_packages') : [],
    prePurgePackages: get('pre_purge_packages') ? c.list(get('pre_purge_packages')!.value, 'pre_purge_packages') : [],
    contentId: c.str(required('content_id').value, 'content_id', /^[A-Za-z0-9][A-Za-z0-9.:_-]*$/, 'a content id'),
    productIdPre: c.str(required('product_id_pre').value, 'product_id_pre', /^[A-Za-z0-9][A-Za-z0-9.:_-]*$/, 'a product id prefix'),
    kname,
    distro,
    os: strOpt('os', /^[a-z0-9][a-z0-9-]{0,31}$/, 'an os name (lowercase, at most 32 characters)') ?? (distro === 'debian' ? 'custom' : 'ubuntu'),
    label: strOpt('label', NAME_RE, 'a label') ?? 'candidate',
  };
  const target = strOpt('default_target', /^(https?|file):\/\/\S+$|^\/\S+$/, 'an http(s) URL or absolute path');
  if (target !== undefined) config.defaultTarget = target;
  const mirror = strOpt('mirror', /^https?:\/\/\S+$/, 'an http(s) URL');
  if (mirror !== undefined) config.mirror = mirror.replace(/\/+$/, '');
  return config;
}

/** Reads and validates a build config file (see parseBuildConfig). */
export async function loadBuildConfig(file: string): Promise<BuildConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(abs, code === 'ENOENT' ? 'no such config file' : `cannot read: ${(err as Error).message}`);
  }
  return parseBuildConfig(text, abs);
}

