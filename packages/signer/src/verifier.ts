import * as openpgp from 'openpgp';
import type { SignatureVerifier, VerifiedPayload } from '@meph/simplestreams';
import {
  BadSignatureError,
  ExpiredKeyRefusedError,
  KeyExpiredError,
  KeyRevokedError,
  NotSignedError,
  TamperedError,
  UnknownKeyError,
  VerificationError,
  WeakAlgorithmError,
} from './errors.js';
import { keyIdHex, readKeyFile } from './keys.js';
import { hashArmorName, parseCleartext, type ParsedCleartext } from './cleartext.js';
import type { VerifierOptions } from './types.js';

type SignatureInfo = Omit<VerifiedPayload, 'payload'>;

const WEAK_HASHES = new Set<number>([openpgp.enums.hash.md5, openpgp.enums.hash.sha1, openpgp.enums.hash.ripemd]);
const MIN_RSA_BITS = 2048;

/** openpgp.js settings with the weak-algorithm checks relaxed (we check those ourselves first). */
const WEAK_CONFIG: openpgp.PartialConfig = {
  minRSABits: 1024,
  rejectHashAlgorithms: new Set([openpgp.enums.hash.md5, openpgp.enums.hash.ripemd]),
  rejectMessageHashAlgorithms: new Set([openpgp.enums.hash.md5, openpgp.enums.hash.ripemd]),
};

function hashName(id: number | null): string {
  const entry = Object.entries(openpgp.enums.hash).find(([, v]) => v === id);
  return entry ? entry[0].toUpperCase().replace(/^SHA(\d)/, 'SHA-$1') : `hash #${String(id)}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface Candidate {
  packet: openpgp.SignaturePacket;
  keyId: string;
  key: openpgp.PublicKey;
  signingKey: openpgp.PublicKey | openpgp.Subkey;
}

class OpenPgpVerifier implements SignatureVerifier {
  /** Keys already warned about as expired (one warning per key per run). */
  private readonly warnedExpired = new Set<string>();

  constructor(
    private readonly keys: openpgp.PublicKey[],
    private readonly keyrings: string[],
    private readonly allowWeak: boolean,
    private readonly expired: { reject: boolean; onWarning?: (message: string) => void } = { reject: false },
  ) {}

  /** Every public key loaded, for callers that want to list them. */
  get publicKeys(): readonly openpgp.PublicKey[] {
    return this.keys;
  }

  async verifyClearsigned(text: string, source: string): Promise<VerifiedPayload> {
    if (!text.includes('-----BEGIN PGP SIGNED MESSAGE-----')) throw new NotSignedError(source);
    let parsed: ParsedCleartext;
    let signature: openpgp.Signature;
    try {
      parsed = parseCleartext(text);
      signature = await openpgp.readSignature({ armoredSignature: parsed.armoredSignature });
    } catch (err) {
      throw new BadSignatureError(source, undefined, `malformed clearsigned message: ${message(err)}`, err);
    }
    const info = await this.check(source, [...signature.packets], async (c, config, date) => {
      const hash = c.packet.hashAlgorithm;
      if (parsed.hashes.length && (hash === null || !parsed.hashes.includes(hash)))
        throw new Error(`the armor header says Hash: ${parsed.hashes.map((h) => hashArmorName(h)).join(',')} but the signature uses ${hashName(hash)}`);
      await this.verifyWith(c, await openpgp.createMessage({ binary: parsed.canonical }), config, date);
    });
    // Only the text the signature covers, never the text around it.
    return { payload: parsed.text, ...info };
  }

  async verifyDetached(data: Uint8Array | string, signatureData: Uint8Array | string, source: string): Promise<SignatureInfo> {
    let signature: openpgp.Signature;
    try {
      const armored = typeof signatureData === 'string' ? signatureData : looksArmored(signatureData) ? Buffer.from(signatureData).toString('utf8') : undefined;
      if (armored !== undefined) {
        if (!armored.includes('-----BEGIN PGP SIGNATURE-----')) throw new Error('no armored signature block');
        signature = await openpgp.readSignature({ armoredSignature: armored });
      } else {
        signature = await openpgp.readSignature({ binarySignature: signatureData as Uint8Array });
      }
    } catch (err) {
      throw new BadSignatureError(source, undefined, `malformed detached signature: ${message(err)}`, err);
    }
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.check(source, [...signature.packets], async (c, config, date) => {
      // Text-mode signatures (gpg --textmode) hash canonicalised line ends; binary ones the exact bytes.
      const literal =
        c.packet.signatureType === openpgp.enums.signature.text
          ? await openpgp.createMessage({ text: Buffer.from(bytes).toString('utf8') })
          : await openpgp.createMessage({ binary: bytes });
      await this.verifyWith(c, literal, config, date);
    });
  }

  /** Verifies one signature packet of candidate `c` over `message`. */
  private async verifyWith(c: Candidate, message: openpgp.Message<string | Uint8Array>, config: openpgp.PartialConfig, date: Date): Promise<void> {
    const result = await openpgp.verify({
      message,
      signature: single(c.packet),
      verificationKeys: c.key,
      date,
      config,
      expectSigned: false,
      format: 'binary',
    });
    await this.awaitVerified(result.signatures, c);
  }

  private async awaitVerified(results: Array<{ keyID: openpgp.KeyID; verified: Promise<true> }>, c: Candidate): Promise<void> {
    const mine = results.filter((r) => keyIdHex(r.keyID) === c.keyId);
    if (!mine.length) throw new Error('signature by the expected key not found');
    for (const r of mine) await r.verified;
  }

  /**
   * Picks the signatures made by a known key and returns the first that verifies; otherwise
   * throws the most telling error (unknown key only when no signature names a known key).
   */
  private async check(
    source: string,
    packets: openpgp.SignaturePacket[],
    verify: (c: Candidate, config: openpgp.PartialConfig, date: Date) => Promise<void>,
  ): Promise<SignatureInfo> {
    if (!packets.length) throw new BadSignatureError(source, undefined, 'no signature packet');
    const unknown: string[] = [];
    let firstError: VerificationError | undefined;
    for (const packet of packets) {
      const keyId = keyIdHex(packet.issuerKeyID);
      const candidate = this.findKey(packet, keyId);
      if (!candidate) {
        unknown.push(keyId);
        continue;
      }
      try {
        return await this.checkOne(source, candidate, verify);
      } catch (err) {
        if (!(err instanceof VerificationError)) throw err;
        firstError ??= err;
      }
    }
    throw firstError ?? new UnknownKeyError(source, unknown, this.keyrings);
  }

  private findKey(packet: openpgp.SignaturePacket, keyId: string): Candidate | undefined {
    for (const key of this.keys) {
      const [signingKey] = key.getKeys(packet.issuerKeyID);
      if (signingKey) return { packet, keyId, key, signingKey };
    }
    return undefined;
  }

  private async checkOne(
    source: string,
    c: Candidate,
    verify: (c: Candidate, config: openpgp.PartialConfig, date: Date) => Promise<void>,
  ): Promise<SignatureInfo> {
    const { packet, keyId, key, signingKey } = c;
    const signedAt = packet.created ?? new Date(0);

    const weak: string[] = [];
    if (packet.hashAlgorithm !== null && WEAK_HASHES.has(packet.hashAlgorithm)) weak.push(`${hashName(packet.hashAlgorithm)} hash`);
    const algo = signingKey.getAlgorithmInfo();
    if (algo.algorithm.startsWith('rsa') && (algo.bits ?? 0) < MIN_RSA_BITS) weak.push(`RSA-${algo.bits ?? '?'} key`);
    if (weak.length && !this.allowWeak) throw new WeakAlgorithmError(source, keyId, weak.join(', '));
    const config = this.allowWeak ? WEAK_CONFIG : {};

    if (await isRevoked(key, signingKey, config)) throw new KeyRevokedError(source, keyId);

    // As GnuPG: a signature made while the key was valid stays good after the key expires.
    const expiry = await expirationOf(key, signingKey, config);
    if (expiry !== undefined && signedAt.getTime() > expiry.getTime()) throw new KeyExpiredError(source, keyId, expiry, signedAt);

    const expiredSince = expiry !== undefined && expiry.getTime() <= Date.now() ? expiry : undefined;
    if (expiredSince && this.expired.reject) throw new ExpiredKeyRefusedError(source, keyId, expiredSince, signedAt);

    try {
      await verify(c, config, signedAt);
    } catch (err) {
      throw classify(source, keyId, err);
    }
    if (expiredSince && !this.warnedExpired.has(keyId)) {
      this.warnedExpired.add(keyId);
      this.expired.onWarning?.(
        `${source}: good signature by key ${keyId}, made ${signedAt.toISOString()} while the key was valid; the key expired on ${expiredSince.toISOString()} (accepted; --reject-expired-keys refuses it)`,
      );
    }
    return { fingerprint: key.getFingerprint().toUpperCase(), keyId, signedAt, ...(expiredSince ? { keyExpiredAt: expiredSince } : {}) };
  }
}

/** A Signature holding one packet, so each signature is checked on its own. */
function single(packet: openpgp.SignaturePacket): openpgp.Signature {
  const list = new openpgp.PacketList<openpgp.SignaturePacket>();
  list.push(packet);
  return new openpgp.Signature(list);
}

function looksArmored(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, 64)).toString('latin1').trimStart().startsWith('-----BEGIN');
}

async function isRevoked(key: openpgp.PublicKey, signingKey: openpgp.PublicKey | openpgp.Subkey, config: openpgp.PartialConfig): Promise<boolean> {
  const full = { ...openpgp.config, ...config };
  if (await key.isRevoked(undefined, undefined, new Date(), full)) return true;
  if (signingKey !== key) {
    const sub = signingKey as openpgp.Subkey;
    if (await sub.isRevoked(undefined as never, undefined as never, new Date(), full)) return true;
  }
  return false;
}

async function expirationOf(key: openpgp.PublicKey, signingKey: openpgp.PublicKey | openpgp.Subkey, config: openpgp.PartialConfig): Promise<Date | undefined> {
  const full = { ...openpgp.config, ...config };
  const times: Array<Date | number | null> = [];
  try {
    times.push(await key.getExpirationTime(undefined, full));
  } catch {
    // An unverifiable self-signature shows up as a bad signature below.
  }
  if (signingKey !== key) {
    try {
      times.push(await (signingKey as openpgp.Subkey).getExpirationTime(new Date(), full));
    } catch {
      // idem
    }
  }
  const dates = times.filter((t): t is Date => t instanceof Date);
  if (!dates.length) return undefined;
  return new Date(Math.min(...dates.map((d) => d.getTime())));
}

/** Maps openpgp.js verification failures to our typed errors. */
function classify(source: string, keyId: string, err: unknown): VerificationError {
  if (err instanceof VerificationError) return err;
  const text = message(err);
  if (/digest did not match/i.test(text)) return new TamperedError(source, keyId, err);
  if (/insecure|too weak|shorter than/i.test(text)) return new WeakAlgorithmError(source, keyId, text);
  if (/revoked/i.test(text)) return new KeyRevokedError(source, keyId);
  return new BadSignatureError(source, keyId, text, err);
}

/**
 * Builds a verifier from public keyrings: binary `.gpg` (as GnuPG exports them, several keys
 * concatenated) and armored `.asc` files, any number. SHA-1 signatures and RSA keys under
 * 2048 bits are refused unless `allowWeak`.
 */
export async function createVerifier(options: VerifierOptions): Promise<SignatureVerifier & { readonly publicKeys: readonly openpgp.PublicKey[] }> {
  const keys: openpgp.PublicKey[] = [];
  for (const file of options.keyrings) {
    for (const key of await readKeyFile(file)) keys.push(key.isPrivate() ? key.toPublic() : (key));
  }
  return new OpenPgpVerifier(keys, options.keyrings, options.allowWeak === true, {
    reject: options.rejectExpiredKeys === true,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}

/** A verifier over already-parsed keys (used by signStream to check its own earlier output). */
export function verifierForKeys(keys: openpgp.PublicKey[], label: string): SignatureVerifier {
  return new OpenPgpVerifier(keys, [label], true);
}
