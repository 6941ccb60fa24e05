import { ChecksumListError } from './errors.js';

/**
 * Parses a `SHA256SUMS`/`MD5SUMS` file (`<hex>  ./path` per line, `*` binary marker allowed)
 * into path → checksum, with any leading `./` removed.
 */
export function parseChecksumList(text: string, source: string, hexLength: 64 | 32 = 64): Map<string, string> {
  const out = new Map<string, string>();
  const re = new RegExp(`^([0-9a-fA-F]{${hexLength}}) [ *](.+)$`);
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const m = re.exec(line);
    if (!m) throw new ChecksumListError(source, `line ${i + 1}: expected "<${hexLength}-hex-digit checksum>  <path>", got ${JSON.stringify(line.slice(0, 80))}`);
    out.set(m[2]!.replace(/^\.\//, ''), m[1]!.toLowerCase());
  });
  return out;
}

export interface ReleaseEntry {
  sha256: string;
  size: number;
}

/** Reads the `SHA256:` section of a Debian `Release`/`InRelease` payload: path → {sha256, size}. */
export function parseReleaseSha256(text: string, source: string): Map<string, ReleaseEntry> {
  const out = new Map<string, ReleaseEntry>();
  let inSection = false;
  let seen = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (/^\S/.test(line)) {
      inSection = /^SHA256:\s*$/.test(line);
      seen ||= inSection;
      continue;
    }
    if (!inSection || line.trim() === '') continue;
    const m = /^\s+([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) throw new ChecksumListError(source, `malformed SHA256 entry ${JSON.stringify(line.trim().slice(0, 80))}`);
    out.set(m[3]!, { sha256: m[1]!.toLowerCase(), size: Number(m[2]) });
  }
  if (!seen) throw new ChecksumListError(source, 'no SHA256 section');
  return out;
}
