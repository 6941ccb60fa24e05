import type { SignatureVerifier } from '@meph/simplestreams';

/** Makes OpenPGP signatures with one secret key (openpgp.js or the system gpg). */
export interface Signer {
  /** A cleartext-signed message (RFC 4880 §7) over `text`, LF line endings, ready to write as `.sjson`. */
  clearsign(text: string): Promise<string>;
  /** An ASCII-armored detached signature over the exact bytes of `data` (`.json.gpg`). */
  detachSign(data: string | Uint8Array): Promise<string>;
  /** Fingerprint of the signing key (upper-case hex, no spaces). */
  fingerprint(): Promise<string>;
  /** The matching public key, armored (used to check existing signatures before re-signing). */
  publicKey(): Promise<string>;
}

export interface VerifierOptions {
  /** Binary (`gpg --export`, several keys may be concatenated) or armored keyring files. */
  keyrings: string[];
  /** Accept SHA-1 signatures and RSA keys under 2048 bits (real older streams use them). */
  allowWeak?: boolean;
  /**
   * A signature made while its key was valid, by a key that has expired since: accepted with
   * a warning through `onWarning` (default, as GnuPG: "Good signature … [expired]"), or
   * refused with ExpiredKeyRefusedError when true.
   */
  rejectExpiredKeys?: boolean;
  /** Receives one line per expired key seen (once per key). */
  onWarning?: (message: string) => void;
}

export type { SignatureVerifier };
