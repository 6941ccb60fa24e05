import * as openpgp from 'openpgp';
import { KeyringError, KeySelectionError, PassphraseError } from './errors.js';
import { keyMatches, normalizeKeyId, readKeyFile } from './keys.js';
import type { Signer } from './types.js';
import { cleartextBody, frameCleartext, hashArmorName } from './cleartext.js';

export interface OpenPgpSignerOptions {
  /** A secret-key file (armored or binary) or the armored secret key itself. */
  key: string;
  /** Passphrase of a protected key (read it from an env var or file, never from argv). */
  passphrase?: string;
  /** Fingerprint or key id choosing the key when `key` holds several. */
  keyId?: string;
}

function toLf(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

async function loadSecretKeys(key: string): Promise<{ label: string; keys: openpgp.PrivateKey[] }> {
  const inline = key.trimStart().startsWith('-----BEGIN PGP');
  const label = inline ? 'the given secret key' : key;
  const all = await readKeyFile(label, inline ? new TextEncoder().encode(key) : undefined);
  const keys = all.filter((k): k is openpgp.PrivateKey => k.isPrivate());
  if (!keys.length) throw new KeyringError(label, 'holds no secret key (only public keys)', { hint: 'export the secret key with gpg --export-secret-keys' });
  return { label, keys };
}

function chooseKey(label: string, keys: openpgp.PrivateKey[], keyId: string | undefined): openpgp.PrivateKey {
  const available = keys.map((k) => k.getFingerprint().toUpperCase());
  if (keyId !== undefined) {
    const matching = keys.filter((k) => keyMatches(k, keyId));
    if (matching.length === 1) return matching[0]!;
    throw new KeySelectionError(label, matching.length ? `key id ${keyId} matches several keys` : `no secret key matches ${keyId}`, available);
  }
  if (keys.length === 1) return keys[0]!;
  throw new KeySelectionError(label, `holds ${keys.length} secret keys and none was chosen`, available);
}

/**
 * A signer on openpgp.js (no gpg binary needed). The key is read, chosen and unlocked once;
 * a missing or wrong passphrase fails here, not at the first signature.
 */
export async function createOpenPgpSigner(options: OpenPgpSignerOptions): Promise<Signer> {
  const { label, keys } = await loadSecretKeys(options.key);
  let key = chooseKey(label, keys, options.keyId);
  const keyId = key.getKeyID().toHex().toUpperCase();
  if (!key.isDecrypted()) {
    if (options.passphrase === undefined) throw new PassphraseError(keyId, 'is protected by a passphrase and none was given');
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase: options.passphrase });
    } catch (err) {
      throw new PassphraseError(keyId, `cannot unlock it: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // When the selection names a signing subkey, sign with exactly that subkey.
  const want = options.keyId === undefined ? undefined : normalizeKeyId(options.keyId);
  const subkey = want === undefined ? undefined : key.getSubkeys().find((s) => {
    const fpr = s.getFingerprint().toUpperCase();
    return fpr === want || (want.length >= 8 && fpr.endsWith(want));
  });
  const signingKeyIDs = subkey ? [subkey.getKeyID()] : []; // [] = openpgp.js's own default
  const unlocked = key;

  return {
    async clearsign(text: string): Promise<string> {
      // A text-mode signature over the canonical body, framed by hand (linear time, see cleartext.ts).
      const body = cleartextBody(text);
      const message = await openpgp.createMessage({ text: body });
      // openpgp.js's types say Message for format 'object'; with detached: true it returns the Signature.
      const signature = (await openpgp.sign({ message, signingKeys: unlocked, detached: true, format: 'object', signingKeyIDs })) as unknown as openpgp.Signature;
      const hash = [...signature.packets][0]?.hashAlgorithm;
      const hashName = hash === undefined || hash === null ? undefined : hashArmorName(hash);
      if (!hashName) throw new Error(`openpgp.js signed with an unexpected hash algorithm (${String(hash)})`);
      return frameCleartext(body, hashName, toLf(signature.armor()));
    },
    async detachSign(data: string | Uint8Array): Promise<string> {
      const binary = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      const message = await openpgp.createMessage({ binary });
      // openpgp.js types this result through @openpgp/web-stream-tools, an optional peer that is not
      // installed (its types pull in the DOM lib): check the armored text at run time instead.
      const signature: unknown = await openpgp.sign({ message, signingKeys: unlocked, detached: true, format: 'armored', signingKeyIDs });
      if (typeof signature !== 'string') throw new Error('openpgp.js returned a detached signature that is not armored text');
      return toLf(signature);
    },
    async fingerprint(): Promise<string> {
      return unlocked.getFingerprint().toUpperCase();
    },
    async publicKey(): Promise<string> {
      return unlocked.toPublic().armor();
    },
  };
}
