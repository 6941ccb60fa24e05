/**
 * The OpenPGP cleartext signature framework (RFC 4880 §7), done in linear time: openpgp.js's
 * own cleartext parser needs seconds for a 30 MB products file, while the signature itself is
 * just a text-mode signature over the canonical text. The framing is parsed strictly by
 * @meph/simplestreams' splitClearsigned and yields exactly the text the signature covers,
 * which is what verification returns.
 */
import * as openpgp from 'openpgp';
import { splitClearsigned, type ClearsignedParts } from '@meph/simplestreams';

const BEGIN_MESSAGE = '-----BEGIN PGP SIGNED MESSAGE-----';

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
  /** Hash algorithm ids named by the `Hash:` headers (at least one). */
  hashes: number[];
  armoredSignature: string;
}

/** Thrown for text that is not a well-formed cleartext-signed message. */
export class CleartextFormatError extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

/**
 * Parses a cleartext-signed message with the strict framing rules of
 * `splitClearsigned` (exactly one message, nothing around it, `Hash:` headers only and at
 * least one) and maps the `Hash:` names to openpgp ids.
 */
export function parseCleartext(message: string): ParsedCleartext {
  let parts: ClearsignedParts;
  try {
    parts = splitClearsigned(message, 'message');
  } catch (err) {
    throw new CleartextFormatError((err as Error).message.replace(/^message: malformed cleartext-signed message: /, ''));
  }
  const hashes = parts.hashes.map((name) => {
    const id = HASH_IDS[name];
    if (id === undefined) throw new CleartextFormatError(`unknown hash ${JSON.stringify(name)} in the armor header`);
    return id;
  });
  const text = parts.body;
  return {
    text,
    canonical: Buffer.from(text.includes('\n') ? text.replace(/\n/g, '\r\n') : text, 'utf8'),
    hashes,
    armoredSignature: parts.signature,
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
