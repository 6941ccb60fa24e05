import { FormatError } from '../errors.js';

const BEGIN_MESSAGE = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';

/** Removes the trailing spaces and tabs RFC 4880 §7.1 excludes from the signed text. */
function trimLineEnd(line: string): string {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c === 0x20 || c === 0x09 || c === 0x0d) end--;
    else break;
  }
  return end === line.length ? line : line.slice(0, end);
}

/** True when the text is an OpenPGP cleartext-signed message (what `.sjson` files are). */
export function isClearsigned(text: string): boolean {
  return /^\uFEFF?\s*-----BEGIN PGP SIGNED MESSAGE-----[ \t\r]*(?:\n|$)/.test(text);
}

/**
 * Returns the signed text of a cleartext-signed message WITHOUT checking the signature
 * (RFC 4880 §7): skips the armor headers (any number, e.g. `Hash: SHA512`) up to the first
 * empty line, takes the lines up to the BEGIN PGP SIGNATURE line, removes the `- ` prefix of
 * dash-escaped lines, drops trailing spaces/tabs (not covered by the signature) and joins the
 * lines with LF (CRLF input is accepted). The line break before the signature line is not
 * part of the signed text, so the result has no trailing newline.
 */
export function extractClearsignedPayload(text: string, source: string): string {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && trimLineEnd(lines[i]!).trim() === '') i++;
  if (i >= lines.length || trimLineEnd(lines[i]!).replace(/^\uFEFF/, '') !== BEGIN_MESSAGE) {
    throw new FormatError(source, `is not a cleartext-signed message (no "${BEGIN_MESSAGE}" line)`);
  }
  i++;
  // Armor headers ("Key: value") up to and including the first empty line.
  for (;; i++) {
    if (i >= lines.length) throw new FormatError(source, 'cleartext-signed message ends inside its armor headers');
    const line = trimLineEnd(lines[i]!);
    if (line === '') {
      i++;
      break;
    }
    if (!/^[^:\s][^:]*: ?/.test(line)) throw new FormatError(source, `malformed armor header ${JSON.stringify(line)} in cleartext-signed message`);
  }
  const body: string[] = [];
  let sawSignature = false;
  for (; i < lines.length; i++) {
    const line = trimLineEnd(lines[i]!);
    if (line === BEGIN_SIGNATURE) {
      sawSignature = true;
      break;
    }
    body.push(line.startsWith('- ') ? line.slice(2) : line);
  }
  if (!sawSignature) throw new FormatError(source, `cleartext-signed message has no "${BEGIN_SIGNATURE}" line (truncated file?)`);
  let sawEnd = false;
  for (i++; i < lines.length; i++) {
    if (trimLineEnd(lines[i]!) === END_SIGNATURE) {
      sawEnd = true;
      break;
    }
  }
  if (!sawEnd) throw new FormatError(source, `cleartext-signed message has no "${END_SIGNATURE}" line (truncated file?)`);
  return body.join('\n');
}
