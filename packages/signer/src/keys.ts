import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { KeyringError } from './errors.js';

const ARMOR_BEGIN = '-----BEGIN PGP ';

/** Upper-case hex without spaces or `0x`, as fingerprints and key ids are compared. */
export function normalizeKeyId(id: string): string {
  return id.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
}

export function keyIdHex(id: openpgp.KeyID): string {
  return id.toHex().toUpperCase();
}

function isArmored(bytes: Uint8Array): boolean {
  // Armored files may start with blank lines or comments before the BEGIN line.
  const head = Buffer.from(bytes.subarray(0, 4096)).toString('latin1');
  return head.includes(ARMOR_BEGIN);
}

/** Splits text holding several armored blocks (concatenated `.asc` files) into the blocks. */
function armoredBlocks(text: string): string[] {
  const blocks: string[] = [];
  const re = /-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g;
  for (const m of text.matchAll(re)) blocks.push(m[0]);
  return blocks;
}

/**
 * Reads every key of a keyring file: binary (as `gpg --export` writes it, several keys
 * concatenated) or armored (one or several blocks). Secret keys are returned as found.
 */
export async function readKeyFile(file: string, bytes?: Uint8Array): Promise<openpgp.Key[]> {
  let data: Uint8Array;
  try {
    data = bytes ?? (await readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyringError(file, code === 'ENOENT' ? 'no such keyring file' : `cannot read keyring: ${(err as Error).message}`, { cause: err });
  }
  if (data.length === 0) throw new KeyringError(file, 'keyring file is empty');
  try {
    if (isArmored(data)) {
      const blocks = armoredBlocks(Buffer.from(data).toString('utf8'));
      if (!blocks.length) throw new Error('no armored PGP key block found');
      const keys: openpgp.Key[] = [];
      for (const block of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
      return keys;
    }
    if (isKeybox(data)) return await openpgp.readKeys({ binaryKeys: keyboxKeyblocks(data) });
    if (data[0] !== undefined && (data[0] & 0x80) === 0) throw new Error('neither an OpenPGP keyring nor a GnuPG keybox');
    return await openpgp.readKeys({ binaryKeys: data });
  } catch (err) {
    if (err instanceof KeyringError) throw err;
    throw new KeyringError(file, `not a readable OpenPGP keyring: ${(err as Error).message}`, {
      cause: err,
      hint: 'give a binary keyring (gpg --export KEY > k.gpg) or an armored public key (.asc)',
    });
  }
}

/**
 * GnuPG 2 writes a keybox (not a plain keyring) when keys are imported into a new
 * `--keyring FILE`; gpgv reads both, so we do too. Layout (GnuPG kbx/keybox-blob.c): blobs of
 * `u32 length, u8 type, u8 version, u16 flags, …`; the first (type 1) carries the magic "KBXf";
 * OpenPGP blobs (type 2) hold `u32 offset, u32 length` of their keyblock, relative to the blob.
 */
function isKeybox(data: Uint8Array): boolean {
  return data.length >= 32 && data[4] === 1 && Buffer.from(data.subarray(8, 12)).toString('latin1') === 'KBXf';
}

function keyboxKeyblocks(data: Uint8Array): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const blocks: Uint8Array[] = [];
  for (let at = 0; at + 16 <= data.length; ) {
    const length = view.getUint32(at);
    if (length < 16 || at + length > data.length) throw new Error(`corrupt keybox blob at byte ${at}`);
    if (data[at + 4] === 2) {
      const offset = view.getUint32(at + 8);
      const size = view.getUint32(at + 12);
      if (offset + size > length) throw new Error(`corrupt keybox blob at byte ${at}`);
      blocks.push(data.subarray(at + offset, at + offset + size));
    }
    at += length;
  }
  if (!blocks.length) throw new Error('the keybox holds no OpenPGP key');
  return Buffer.concat(blocks);
}

/** True when `id` (fingerprint, long or short key id) names the key or one of its subkeys. */
export function keyMatches(key: openpgp.Key, id: string): boolean {
  const want = normalizeKeyId(id);
  return key.getKeys().some((k) => {
    const fpr = k.getFingerprint().toUpperCase();
    return fpr === want || (want.length >= 8 && fpr.endsWith(want));
  });
}
