import { errorGuard, mephErrorBase } from '@meph/errors';

/** How users opt in to SHA-1 signatures and short RSA keys. */
export const WEAK_OPT_IN_HINT = 'if you trust this old key, pass --allow-weak-signatures';

/** Base of every @meph/signer error; `isSignerError` is true for these and no other library's. */
export abstract class SignerError extends mephErrorBase('@meph/signer') {}
export const isSignerError = errorGuard(SignerError);

/** Base of every failed verification: `source` is the file or URL, `keyId` the issuer (16 hex digits, upper case). */
export abstract class VerificationError extends SignerError {
  constructor(readonly source: string, readonly keyId: string | undefined, message: string, options?: { cause?: unknown; hint?: string }) {
    super(`${source}: ${message}`, options);
  }
}

/** The signature names a key that none of the given keyrings holds. */
export class UnknownKeyError extends VerificationError {
  override readonly name = 'UnknownKeyError';
  constructor(source: string, readonly keyIds: string[], readonly keyrings: string[]) {
    super(
      source,
      keyIds[0],
      `signed by unknown key ${keyIds.join(', ') || '(no issuer key id)'}; not in ${keyrings.length ? keyrings.join(', ') : 'any keyring'}`,
      { hint: 'give the keyring holding that public key with --keyring FILE' },
    );
  }
}

/** The signing key had expired when the signature was made. */
export class KeyExpiredError extends VerificationError {
  override readonly name = 'KeyExpiredError';
  constructor(source: string, keyId: string, readonly expiredAt: Date, readonly signedAt: Date) {
    super(source, keyId, `key ${keyId} expired on ${expiredAt.toISOString()}, before the signature was made (${signedAt.toISOString()})`, {
      hint: 'the stream must be re-signed with a valid key',
    });
  }
}

/**
 * The signature was made while the key was valid, but the key has expired since, and the
 * caller asked to refuse such signatures (`rejectExpiredKeys`, `--reject-expired-keys`).
 */
export class ExpiredKeyRefusedError extends VerificationError {
  override readonly name = 'ExpiredKeyRefusedError';
  constructor(source: string, keyId: string, readonly expiredAt: Date, readonly signedAt: Date) {
    super(source, keyId, `signed by key ${keyId} on ${signedAt.toISOString()}, and that key expired on ${expiredAt.toISOString()}; refused (--reject-expired-keys)`, {
      hint: 'ask the publisher for a stream signed with a current key, or drop --reject-expired-keys to accept signatures made before the expiry',
    });
  }
}

/** The signing key (or the signing subkey) has been revoked. */
export class KeyRevokedError extends VerificationError {
  override readonly name = 'KeyRevokedError';
  constructor(source: string, keyId: string) {
    super(source, keyId, `key ${keyId} has been revoked`, { hint: 'do not trust this stream; ask its publisher for their current key' });
  }
}

/** The signature is malformed or cryptographically invalid (not a mere content change). */
export class BadSignatureError extends VerificationError {
  override readonly name = 'BadSignatureError';
  constructor(source: string, keyId: string | undefined, readonly detail: string, cause?: unknown) {
    super(source, keyId, `bad signature${keyId ? ` by key ${keyId}` : ''}: ${detail}`, { cause });
  }
}

/** The signed text (or the data beside a detached signature) was changed after signing. */
export class TamperedError extends VerificationError {
  override readonly name = 'TamperedError';
  constructor(source: string, keyId: string, cause?: unknown) {
    super(source, keyId, `content does not match the signature by key ${keyId}: the file was modified after it was signed`, {
      cause,
      hint: 'fetch the file again or re-sign it',
    });
  }
}

/** SHA-1 (or weaker) hash or an RSA key under 2048 bits, refused without the opt-in. */
export class WeakAlgorithmError extends VerificationError {
  override readonly name = 'WeakAlgorithmError';
  constructor(source: string, keyId: string, readonly detail: string) {
    super(source, keyId, `signature by key ${keyId} uses a weak algorithm (${detail})`, { hint: WEAK_OPT_IN_HINT });
  }
}

/** A document has no OpenPGP signature where one was expected. */
export class NotSignedError extends SignerError {
  override readonly name = 'NotSignedError';
  constructor(readonly source: string, detail = 'is not an OpenPGP clearsigned message') {
    super(`${source}: ${detail}`);
  }
}

/** A keyring or secret-key file cannot be read or holds no usable key. */
export class KeyringError extends SignerError {
  override readonly name = 'KeyringError';
  constructor(readonly file: string, readonly detail: string, options?: { cause?: unknown; hint?: string }) {
    super(`${file}: ${detail}`, options);
  }
}

/** The secret key needs a passphrase that was not given, or the one given is wrong. */
export class PassphraseError extends SignerError {
  override readonly name = 'PassphraseError';
  constructor(readonly keyId: string, readonly detail: string) {
    super(`secret key ${keyId}: ${detail}`, {
      hint: 'set MEPH_SIGNING_PASSPHRASE, or MEPH_SIGNING_PASSPHRASE_FILE / --passphrase-file to a file holding it',
    });
  }
}

/** The key file holds several secret keys and none or more than one matches the selection. */
export class KeySelectionError extends SignerError {
  override readonly name = 'KeySelectionError';
  constructor(readonly file: string, readonly detail: string, readonly available: string[]) {
    super(`${file}: ${detail}; available: ${available.join(', ') || 'none'}`, { hint: 'choose one with --key-id FINGERPRINT (or MEPH_SIGNING_KEY_ID)' });
  }
}

/** The system gpg failed to sign (`gpgExitCode` is gpg's, not the one meph exits with). */
export class GpgError extends SignerError {
  override readonly name = 'GpgError';
  constructor(readonly localUser: string, readonly detail: string, readonly gpgExitCode?: number) {
    super(`gpg --local-user ${localUser}: ${detail}`, { hint: 'check that the key is in GNUPGHOME (gpg --list-secret-keys) and the agent can unlock it' });
  }
}

/** The directory given is not a mirror root that can be signed. */
export class StreamDirError extends SignerError {
  override readonly name = 'StreamDirError';
  constructor(readonly dir: string, readonly detail: string) {
    super(`${dir}: ${detail}`, { hint: 'give the mirror root, the directory that holds streams/v1/' });
  }
}

/** The key cannot make a valid signature (expired, revoked, no signing capability, agent refused). */
export class SigningKeyError extends SignerError {
  override readonly name = 'SigningKeyError';
  constructor(readonly key: string, readonly detail: string, cause?: unknown) {
    super(`cannot sign with ${key}: ${detail}`, {
      cause,
      hint: 'nothing was changed; check the key has not expired or been revoked and can sign (gpg --list-secret-keys), and its passphrase',
    });
  }
}
