import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One row of distro-info-data (`/usr/share/distro-info/{ubuntu,debian}.csv`). */
export interface DistroRelease {
  distro: 'ubuntu' | 'debian';
  /** `24.04 LTS` / `12`; may be empty for sid/experimental. */
  version: string;
  codename: string;
  series: string;
  created?: string;
  release?: string;
  eol?: string;
  /** Ubuntu eol-server / Debian eol-lts. */
  eolServer?: string;
  /** Ubuntu eol-esm / Debian eol-elts. */
  eolEsm?: string;
}

export const DISTRO_INFO_DIR = '/usr/share/distro-info';

function parseCsv(text: string, distro: DistroRelease['distro']): DistroRelease[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',');
  const col = (row: string[], name: string): string | undefined => {
    const i = header.indexOf(name);
    const v = i >= 0 ? row[i] : undefined;
    return v ? v : undefined;
  };
  return lines.map((line) => {
    const row = line.split(',');
    const r: DistroRelease = { distro, version: col(row, 'version') ?? '', codename: col(row, 'codename') ?? '', series: col(row, 'series') ?? '' };
    const set = (key: keyof DistroRelease, name: string): void => {
      const v = col(row, name);
      if (v) (r as unknown as Record<string, string>)[key] = v;
    };
    set('created', 'created');
    set('release', 'release');
    set('eol', 'eol');
    set('eolServer', distro === 'ubuntu' ? 'eol-server' : 'eol-lts');
    set('eolEsm', distro === 'ubuntu' ? 'eol-esm' : 'eol-elts');
    return r;
  });
}

/** Reads distro-info-data; returns an empty list when the package is not installed. */
export function loadDistroInfo(dir = DISTRO_INFO_DIR): DistroRelease[] {
  const out: DistroRelease[] = [];
  for (const distro of ['ubuntu', 'debian'] as const) {
    try {
      out.push(...parseCsv(readFileSync(path.join(dir, `${distro}.csv`), 'utf8'), distro));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

/** Every known series codename (used to recognise `<codename>-` prefixes in installer paths). */
export function knownCodenames(releases: readonly DistroRelease[]): Set<string> {
  return new Set(releases.map((r) => r.series).filter(Boolean));
}

/**
 * Supported or ESM/LTS-supported at `date` (the original keeps releases distro-info calls
 * supported or ESM-supported). Unreleased development series count as supported.
 */
export function isSupported(r: DistroRelease, date: Date = new Date()): boolean {
  const day = date.toISOString().slice(0, 10);
  if (r.created && r.created > day) return false;
  const last = [r.eol, r.eolServer, r.eolEsm].filter((d): d is string => !!d).sort().pop();
  return last === undefined || last >= day;
}

/** `24.04 LTS` → `24.04`; a release without a number keeps its codename. */
export function numericVersion(r: DistroRelease): string {
  return r.version.replace(/\s*LTS$/, '') || r.series;
}
