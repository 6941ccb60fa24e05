import * as openpgp from 'openpgp';
import { SignerError, SigningKeyError } from './errors.js';
import type { Signer } from './types.js';
import { verifierForKeys } from './verifier.js';

/**
 * Proves a signer works before a command changes anything: makes one detached and one
 * cleartext signature over a probe text and checks both with the signer's own public key, so
 * a wrong passphrase, an expired or revoked key, or a key without signing capability fails
 * here with one line instead of half-way through a commit. `label` names the key in messages.
 */
export async function checkSigner(signer: Signer, label: string): Promise<void> {
  const probe = `meph signing check ${new Date().toISOString()}\n`;
  try {
    const fingerprint = await signer.fingerprint();
    const verifier = verifierForKeys(await openpgp.readKeys({ armoredKeys: await signer.publicKey() }), `key ${fingerprint}`);
    await verifier.verifyDetached(probe, await signer.detachSign(probe), 'signing check');
    await verifier.verifyClearsigned(await signer.clearsign(probe), 'signing check');
  } catch (err) {
    if (err instanceof SignerError && !(err as { source?: unknown }).source) throw err; // already one clear line (GpgError, PassphraseError)
    const detail = (err instanceof Error ? err.message : String(err)).replace(/^Error signing message: /, '').split('\n')[0]!;
    throw new SigningKeyError(label, detail, err);
  }
}
