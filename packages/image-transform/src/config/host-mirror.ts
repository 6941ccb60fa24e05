import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
  /** File the entry came from. */
  file: string;
}

/** Parses deb822 `.sources` text (only `Types: deb` stanzas that are not disabled). */
export function parseDeb822Sources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split('\n')) {
      if (raw.startsWith('#')) continue;
      if (/^\s/.test(raw) && last) {
        fields.set(last, `${fields.get(last)} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) fields.set((last = m[1]!.toLowerCase()), m[2]!.trim());
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || fields.get('enabled') === 'no') continue;
    for (const uri of words('uris')) out.push({ uri, suites: words('suites'), components: words('components'), file });
  }
  return out;
}

/** Parses one-line `sources.list` text (`deb [options] uri suite components…`). */
export function parseOneLineSources(text: string, file: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (m) out.push({ uri: m[1]!, suites: [m[2]!], components: m[3]!.split(/\s+/).filter(Boolean), file });
  }
  return out;
}

/** Every `deb` source configured on this host (`sources.list.d/*.sources`, `*.list`, `sources.list`). */
export async function readHostAptSources(aptDir = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const dir = path.join(aptDir, 'sources.list.d');
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if (name.endsWith('.sources')) out.push(...parseDeb822Sources(await readFile(file, 'utf8'), file));
    else if (name.endsWith('.list')) out.push(...parseOneLineSources(await readFile(file, 'utf8'), file));
  }
  const main = path.join(aptDir, 'sources.list');
  const text = await readFile(main, 'utf8').catch(() => undefined);
  if (text !== undefined) out.push(...parseOneLineSources(text, main));
  return out;
}

/**
 * The host's Debian archive mirror: the first `deb` source that is not a security or
 * backports archive and serves `release` (or any release when none matches).
 */
export async function hostDebianMirror(release?: string, aptDir = '/etc/apt'): Promise<string> {
  const sources = (await readHostAptSources(aptDir)).filter(
    (s) => /^https?:\/\//.test(s.uri) && !/security/.test(s.uri) && !s.suites.every((x) => /-(security|backports)$/.test(x)),
  );
  const match = (release && sources.find((s) => s.suites.includes(release))) || sources[0];
  if (!match) {
    throw new ConfigError(path.join(aptDir, 'sources.list.d'), 'no Debian archive mirror is configured on this host', undefined, undefined, {
      hint: 'name one with "mirror:" in the config, MEPH_MIRROR or --mirror',
    });
  }
  return match.uri.replace(/\/+$/, '');
}
