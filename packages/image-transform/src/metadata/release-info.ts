import { readFileSync } from 'node:fs';
import type { Distro } from '../config/types.js';

/** What distro-info knows about a release, in the form the products carry. */
export interface ReleaseInfo {
  /** e.g. "Noble Numbat", "Bookworm". */
  releaseCodename: string;
  /** e.g. "24.04 LTS", "12". */
  releaseTitle: string;
  /** YYYY-MM-DD. */
  supportEol?: string;
  /** YYYY-MM-DD; equals supportEol when the release has no extended support. */
  supportEsmEol?: string;
}

const DISTRO_INFO_DIR = '/usr/share/distro-info';
const cache = new Map<string, Map<string, Record<string, string>>>();

function table(distro: Distro, dir: string): Map<string, Record<string, string>> {
  const key = `${dir}/${distro}`;
  let rows = cache.get(key);
  if (rows) return rows;
  rows = new Map();
  let text = '';
  try {
    text = readFileSync(`${dir}/${distro}.csv`, 'utf8');
  } catch {
    // distro-info-data not installed: products then carry only what the config says.
  }
  const [header, ...lines] = text.trim().split('\n');
  const cols = (header ?? '').split(',');
  for (const line of lines) {
    const cells = line.split(',');
    const row: Record<string, string> = {};
    cols.forEach((c, i) => {
      if (cells[i]) row[c] = cells[i]!;
    });
    if (row['series']) rows.set(row['series'], row);
  }
  cache.set(key, rows);
  return rows;
}

/**
 * Release metadata from distro-info-data (`/usr/share/distro-info/<distro>.csv`), as the
 * original takes it from python3-distro-info. Undefined when the release is unknown.
 */
export function lookupReleaseInfo(distro: Distro, series: string, dir = DISTRO_INFO_DIR): ReleaseInfo | undefined {
  const row = table(distro, dir).get(series);
  if (!row || !row['codename'] || !row['version']) return undefined;
  const eol = distro === 'ubuntu' ? (row['eol-server'] ?? row['eol']) : row['eol'];
  const extended = distro === 'ubuntu' ? row['eol-esm'] : row['eol-lts'];
  const info: ReleaseInfo = { releaseCodename: row['codename'], releaseTitle: row['version'] };
  if (eol) {
    info.supportEol = eol;
    info.supportEsmEol = extended ?? eol;
  }
  return info;
}
