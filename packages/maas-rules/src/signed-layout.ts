import type { MaasVersion } from './types.js';
import { BOTH, NEW, OLD } from './rules.js';

const BEGIN = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIGNATURE = '-----BEGIN PGP SIGNATURE-----';

export interface LayoutProblem {
  message: string;
  maas: readonly MaasVersion[];
  severity?: 'warning';
}

export interface ClearsignedLayout {
  problems: LayoutProblem[];
  /** The signed text (dash-unescaped), when it could be located. */
  payload?: string;
}

export function looksClearsigned(text: string): boolean {
  return text.replace(/^\uFEFF/, '').trimStart().startsWith(BEGIN);
}

/**
 * Checks a clearsigned document the way both importers cut the JSON out of it (R-SIG): the 3.7
 * importer skips exactly one header line and needs the blank line after it; 3.8 takes the text
 * from the first "{" and does not undo dash-escaping. This is layout only; whether the
 * signature verifies is the verifier's job.
 */
export function checkClearsignedLayout(text: string): ClearsignedLayout {
  const problems: LayoutProblem[] = [];
  if (!text.startsWith(BEGIN)) {
    if (looksClearsigned(text)) {
      problems.push({ message: `has a byte order mark or whitespace before "${BEGIN}"; MAAS requires it at byte 0`, maas: BOTH });
    } else {
      problems.push({ message: 'is not clearsigned (it does not start with "-----BEGIN PGP SIGNED MESSAGE-----")', maas: BOTH });
      return { problems };
    }
  }
  const lines = text.replace(/^\uFEFF/, '').trimStart().split(/\r?\n/);
  let i = 1;
  const headers: string[] = [];
  while (i < lines.length && lines[i] !== '') headers.push(lines[i++]!);
  if (headers.length !== 1) {
    problems.push({
      message: `has ${headers.length} armor header lines; the 3.7 importer needs exactly one ("Hash: SHA512") followed by an empty line`,
      maas: OLD,
    });
  }
  for (const h of headers) {
    if (h.includes('{')) problems.push({ message: `armor header "${h}" contains "{", where MAAS 3.8 starts reading JSON`, maas: NEW });
  }
  const end = lines.indexOf(SIGNATURE, i);
  if (end < 0) {
    problems.push({ message: `has no "${SIGNATURE}" block`, maas: BOTH });
    return { problems };
  }
  problems.push(...checkSignaturePacket(lines.slice(end + 1)));
  const body = lines.slice(i + 1, end);
  if (body.some((l) => l.startsWith('- '))) {
    problems.push({ message: 'has dash-escaped lines ("- "), which MAAS 3.8 does not unescape', maas: NEW });
  }
  return { problems, payload: body.map((l) => (l.startsWith('- ') ? l.slice(2) : l)).join('\n') };
}

/** RFC 9580 public-key algorithms that GnuPG's gpgv does not implement. */
const UNKNOWN_TO_GNUPG: Record<number, string> = { 25: 'X25519', 26: 'X448', 27: 'Ed25519 (RFC 9580 id 27)', 28: 'Ed448 (RFC 9580 id 28)' };
const WEAK_HASHES: Record<number, string> = { 1: 'MD5', 2: 'SHA1', 3: 'RIPEMD160' };

/**
 * Looks inside the armored signature: MAAS hosts verify with GnuPG's gpgv, which reads v4 (and
 * v3) signature packets only and does not know the RFC 9580 Ed25519/Ed448 algorithm ids
 * (checked with gpgv 2.2: "packet(2) with unknown version 6", "Invalid public key algorithm").
 */
export function checkSignaturePacket(armorLines: string[]): LayoutProblem[] {
  const endAt = armorLines.findIndex((l) => l.startsWith('-----END PGP SIGNATURE-----'));
  let lines = endAt < 0 ? armorLines : armorLines.slice(0, endAt);
  const blank = lines.indexOf('');
  if (blank >= 0) lines = lines.slice(blank + 1);
  const b64 = lines.filter((l) => l !== '' && !l.startsWith('=')).join('');
  const bytes = Buffer.from(b64, 'base64');
  let body: ReturnType<typeof firstPacketBody>;
  try {
    body = firstPacketBody(bytes);
  } catch {
    body = undefined; // truncated packet
  }
  if (!body || body.tag !== 2) return [{ message: 'has a signature block without a readable signature packet', maas: BOTH }];
  const version = body.data[0];
  if (version !== 4 && version !== 3) {
    return [{ message: `carries a version ${String(version)} signature; gpgv on MAAS hosts reads only version 4 (sign with a v4 key)`, maas: BOTH }];
  }
  const problems: LayoutProblem[] = [];
  const [pk, hash] = version === 4 ? [body.data[2], body.data[3]] : [body.data[15], body.data[16]];
  if (pk !== undefined && UNKNOWN_TO_GNUPG[pk]) {
    problems.push({
      message: `is signed with public-key algorithm ${UNKNOWN_TO_GNUPG[pk]}, which gpgv on MAAS hosts cannot check (use RSA ≥ 2048 or GnuPG's EdDSA, id 22)`,
      maas: BOTH,
    });
  }
  if (hash !== undefined && WEAK_HASHES[hash]) {
    problems.push({ message: `is signed with the weak digest ${WEAK_HASHES[hash]}; GnuPG on MAAS hosts may refuse it (use SHA256 or SHA512)`, maas: BOTH, severity: 'warning' });
  }
  return problems;
}

function firstPacketBody(b: Buffer): { tag: number; data: Buffer } | undefined {
  const h = b[0];
  if (h === undefined || (h & 0x80) === 0) return undefined;
  let tag: number;
  let len: number;
  let off: number;
  if (h & 0x40) {
    tag = h & 0x3f;
    const l0 = b[1];
    if (l0 === undefined) return undefined;
    if (l0 < 192) [len, off] = [l0, 2];
    else if (l0 < 224) [len, off] = [((l0 - 192) << 8) + (b[2] ?? 0) + 192, 3];
    else if (l0 === 255) [len, off] = [b.readUInt32BE(2), 6];
    else return undefined; // partial lengths do not occur in signature packets
  } else {
    tag = (h >> 2) & 0x0f;
    const lt = h & 3;
    if (lt === 0) [len, off] = [b[1] ?? 0, 2];
    else if (lt === 1) [len, off] = [b.readUInt16BE(1), 3];
    else if (lt === 2) [len, off] = [b.readUInt32BE(1), 5];
    else [len, off] = [b.length - 1, 1];
  }
  if (off + len > b.length) return undefined;
  return { tag, data: b.subarray(off, off + len) };
}
