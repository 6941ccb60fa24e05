export * from './errors.js';
export type { Signer, VerifierOptions, SignatureVerifier } from './types.js';
export { createOpenPgpSigner, type OpenPgpSignerOptions } from './openpgp-signer.js';
export { createGpgSigner, type GpgSignerOptions } from './gpg-signer.js';
export { createVerifier } from './verifier.js';
export { checkSigner } from './check-signer.js';
export { signStream, signedTextFor, documentSignerFor, type SignStreamEvent, type SignStreamOptions } from './sign-stream.js';
export { readKeyFile, normalizeKeyId } from './keys.js';
export { verifyStream, type VerifyStreamOptions, type VerifyStreamResult, type StreamFinding, type StreamCheck } from './verify-stream.js';
