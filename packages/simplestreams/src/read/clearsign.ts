/**
 * The framing of OpenPGP cleartext-signed messages (RFC 4880 §7), parsed strictly: a `.sjson`
 * must be exactly one signed message and nothing around it (the CVE-2023-41037 class of
 * attacks puts unsigned text before the BEGIN line or a second block after the signature).
 * Linear time: products files are tens of megabytes.
 */
import { FormatError } from '../errors.js';

const BEGIN_MESSAGE = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';

/** Trailing spaces/tabs/CRs of every line (line ends are LF or CRLF only, so no `m` flag). */
const TRAILING_BLANKS = /[ \t\r]+(?=\n|$)/g;

export interface ClearsignedParts {
  /** Hash names of the `Hash:` armor headers, upper case (at least one). */
  hashes: string[];
  /** The signed text: dash escaping undone, trailing blanks removed, LF line ends, no final line break. */
  body: string;
  /** The armored signature block, BEGIN to END line, LF line ends. */
  signature: string;
}

/**
 * True when some line of `text` is the BEGIN PGP SIGNED MESSAGE line, i.e. the text is meant
 * as a signed message (plain JSON never has such a line). Such text must then parse with
 * {@link splitClearsigned} and verify; it is never read as unsigned JSON.
 */
export function isClearsigned(text: string): boolean {
  return findLine(text, BEGIN_MESSAGE, 0) >= 0;
}

/** Index of the first line at or after `from` that is `marker` (trailing blanks allowed), or -1. */
function findLine(text: string, marker: string, from: number): number {
  for (let at = text.indexOf(marker, from); at >= 0; at = text.indexOf(marker, at + 1)) {
    // A line start; a byte order mark before the first line counts as text before it.
    if (at !== 0 && text[at - 1] !== '\n' && !(at === 1 && text.charCodeAt(0) === 0xfeff)) continue;
    let end = at + marker.length;
    while (text[end] === ' ' || text[end] === '\t' || text[end] === '\r') end++;
    if (end === text.length || text[end] === '\n') return at;
  }
  return -1;
}

/** Index just after the end of the line starting at `at` (past its LF), or the text length. */
function nextLine(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
}

/**
 * Splits a cleartext-signed message into its hash headers, signed text and signature block,
 * WITHOUT checking the signature. Refuses (FormatError naming `source`) anything but exactly
 * one message: text before the BEGIN line, armor headers other than `Hash:`, no `Hash:`
 * header, a missing signature or END line, or anything but blank lines after the END line.
 */
export function splitClearsigned(text: string, source: string): ClearsignedParts {
  const bad = (detail: string): never => {
    throw new FormatError(source, `malformed cleartext-signed message: ${detail}`);
  };
  const begin = findLine(text, BEGIN_MESSAGE, 0);
  if (begin < 0) bad(`no "${BEGIN_MESSAGE}" line`);
  if (begin !== 0) bad(`text before the "${BEGIN_MESSAGE}" line${begin === 1 ? ' (a byte order mark)' : ''}`);
  const hashes: string[] = [];
  let at = nextLine(text, begin);
  for (;;) {
    if (at >= text.length) bad('no empty line after the armor headers (truncated file?)');
    const lineEnd = nextLine(text, at);
    const header = text.slice(at, lineEnd).replace(TRAILING_BLANKS, '').replace(/\n$/, '');
    at = lineEnd;
    if (header === '') break;
    const m = /^Hash: ?(.+)$/.exec(header);
    if (!m) bad(`unexpected armor header ${JSON.stringify(header.slice(0, 60))} (only "Hash:" is allowed)`);
    for (const name of m![1]!.split(',')) {
      const h = name.trim().toUpperCase();
      if (h === '') bad('empty name in the "Hash:" armor header');
      hashes.push(h);
    }
  }
  if (!hashes.length) bad('no "Hash:" armor header');
  const sigStart = findLine(text, BEGIN_SIGNATURE, at);
  if (sigStart < 0) bad(`no "${BEGIN_SIGNATURE}" line (truncated file?)`);
  const sigEnd = findLine(text, END_SIGNATURE, sigStart);
  if (sigEnd < 0) bad(`no "${END_SIGNATURE}" line (truncated file?)`);
  if (findLine(text, BEGIN_MESSAGE, at) >= 0) bad(`a second "${BEGIN_MESSAGE}" line`);
  const after = nextLine(text, sigEnd);
  if (!/^\s*$/.test(text.slice(after))) bad(`text after the "${END_SIGNATURE}" line (a second message or appended data)`);

  // The line break before the signature line is not part of the signed text.
  let body = sigStart > at ? text.slice(at, sigStart - 1) : '';
  // Fast paths: serialised JSON has neither trailing blanks nor dash-escaped lines.
  if (/[ \t\r](?:\n|$)/.test(body)) body = body.replace(TRAILING_BLANKS, '');
  if (body.startsWith('- ') || body.includes('\n- ')) body = body.replace(/(^|\n)- /g, '$1');
  return { hashes, body, signature: text.slice(sigStart, after).replace(TRAILING_BLANKS, '') };
}

/**
 * The signed text of a cleartext-signed message WITHOUT checking the signature (for
 * `--no-verify`); the framing is checked as strictly as when verifying.
 */
export function extractClearsignedPayload(text: string, source: string): string {
  return splitClearsigned(text, source).body;
}
