/**
 * The OpenPGP cleartext signature framework (RFC 4880 §7), done in linear time: openpgp.js's
 * own cleartext parser needs seconds for a 30 MB products file, while the signature itself is
 * just a text-mode signature over the canonical text. Parsing here is strict (only `Hash:`
 * armor headers, as required since CVE-2023-41037) and yields exactly the text the signature
 * covers, which is what verification returns.
 */
import * as openpgp from 'openpgp';

const BEGIN_MESSAGE = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';
const END_SIGNATURE = '-----END PGP SIGNATURE-----';

/** Armor `Hash:` names (RFC 4880 §9.4) → openpgp hash ids. */
const HASH_IDS: Record<string, number> = {
  MD5: openpgp.enums.hash.md5,
  SHA1: openpgp.enums.hash.sha1,
  RIPEMD160: openpgp.enums.hash.ripemd,
  SHA256: openpgp.enums.hash.sha256,
  SHA384: openpgp.enums.hash.sha384,
  SHA512: openpgp.enums.hash.sha512,
  SHA224: openpgp.enums.hash.sha224,
};

export function hashArmorName(id: number): string | undefined {
  return Object.entries(HASH_IDS).find(([, v]) => v === id)?.[0];
}

export interface ParsedCleartext {
  /** The signed text as verified: dash-unescaped, trailing blanks removed, LF line ends. */
  text: string;
  /** The bytes the signature covers: the same lines joined with CRLF. */
  canonical: Uint8Array;
  /** Hash algorithm ids named by the `Hash:` headers (empty when there is none). */
  hashes: number[];
  armoredSignature: string;
}

/** Thrown for text that is not a well-formed cleartext-signed message. */
export class CleartextFormatError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

/** Trailing spaces/tabs/CRs of every line (RFC 4880 line ends are LF or CRLF only, so no `m` flag). */
const TRAILING_BLANKS = /[ \t\r]+(?=\n|$)/g;

/** Index of the first line at or after `from` that is `marker` (trailing blanks allowed), or -1. */
function findLine(text: string, marker: string, from: number): number {
  for (let at = text.indexOf(marker, from); at >= 0; at = text.indexOf(marker, at + 1)) {
    if (at !== 0 && text[at - 1] !== '\n') continue;
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

export function parseCleartext(message: string): ParsedCleartext {
  const begin = findLine(message, BEGIN_MESSAGE, 0);
  if (begin < 0) throw new CleartextFormatError('no "-----BEGIN PGP SIGNED MESSAGE-----" line');
  const hashes: number[] = [];
  let at = nextLine(message, begin);
  for (;;) {
    if (at >= message.length) throw new CleartextFormatError('no empty line after the armor headers');
    const lineEnd = nextLine(message, at);
    const header = message.slice(at, lineEnd).replace(TRAILING_BLANKS, '').replace(/\n$/, '');
    at = lineEnd;
    if (header === '') break;
    const m = /^Hash: ?(.+)$/.exec(header);
    if (!m) throw new CleartextFormatError(`unexpected armor header ${JSON.stringify(header.slice(0, 60))} (only "Hash:" is allowed)`);
    for (const name of m[1]!.split(',').map((h) => h.trim().toUpperCase())) {
      const id = HASH_IDS[name];
      if (id === undefined) throw new CleartextFormatError(`unknown hash ${JSON.stringify(name)} in the armor header`);
      hashes.push(id);
    }
  }
  const sigStart = findLine(message, BEGIN_SIGNATURE, at);
  if (sigStart < 0) throw new CleartextFormatError('no "-----BEGIN PGP SIGNATURE-----" line');
  const sigEnd = findLine(message, END_SIGNATURE, sigStart);
  if (sigEnd < 0) throw new CleartextFormatError('no "-----END PGP SIGNATURE-----" line');

  // The line break before the signature line is not part of the signed text.
  let text = sigStart > at ? message.slice(at, sigStart - 1) : '';
  // Fast paths: serialised JSON has neither trailing blanks nor dash-escaped lines.
  if (/[ \t\r](?:\n|$)/.test(text)) text = text.replace(TRAILING_BLANKS, '');
  if (text.startsWith('- ') || text.includes('\n- ')) text = text.replace(/(^|\n)- /g, '$1');
  return {
    text,
    canonical: Buffer.from(text.includes('\n') ? text.replace(/\n/g, '\r\n') : text, 'utf8'),
    hashes,
    armoredSignature: message.slice(sigStart, nextLine(message, sigEnd)).replace(TRAILING_BLANKS, ''),
  };
}

/**
 * The text a cleartext signature over `text` covers, as LF-joined lines with trailing blanks
 * removed. Sign this (as a text-mode signature) and frame it with {@link frameCleartext}.
 */
export function cleartextBody(text: string): string {
  // Fast path: serialised JSON has no trailing blanks, so usually there is nothing to do.
  if (!/[ \t\r](?:\n|$)/.test(text)) return text;
  return text.replace(/[ \t\r]+(?=\n|$)/g, '');
}

/** Frames a body and its armored text-mode signature as a cleartext-signed message (LF line ends). */
export function frameCleartext(body: string, hashName: string, armoredSignature: string): string {
  const escaped = body.replace(/^-/gm, '- -');
  return `${BEGIN_MESSAGE}\nHash: ${hashName}\n\n${escaped}\n${armoredSignature.replace(/\r\n/g, '\n').replace(/\n*$/, '\n')}`;
}
