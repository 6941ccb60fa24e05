/**
 * `verify` as one call: the stream's own checks (@meph/signer), the publish twin window for a
 * stream being published (twin-window.ts) and optionally the MAAS import rules
 * (@meph/maas-rules). Here because this package is the one that may depend on all three; its
 * own entry point (`@meph/publish/verify`) so that a verify does not load the object stores.
 */
import { createHttpClient } from '@meph/http';
import type { MaasFinding, MaasVersion } from '@meph/maas-rules';
import { isHttpUrl } from '@meph/simplestreams';
import { summarizeVerify, verifyStream, type SignatureVerifier, type StreamFinding, type VerifyStreamOptions, type VerifySummary } from '@meph/signer';
import { explainTwinWindow } from './twin-window.js';

/** One finding of a verify: a signature/index/data finding, or a MAAS rule finding. */
export type VerifyFinding = StreamFinding | (MaasFinding & { check: 'maas' });

export interface VerifyStreamFullyOptions {
  /**
   * Checks every signature. Without it signatures are not checked, and MAAS's "the stream is
   * offered signed" rule (R-IDX-01) is not applied either.
   */
  verifier?: SignatureVerifier;
  /** Also every item's file: size and every checksum (and, with `maas`, the MAAS data rules). */
  checkData?: boolean;
  /** Files checked in parallel (default 4). */
  concurrency?: number;
  /** Also every rule MAAS applies when importing the stream. */
  maas?: {
    /** Which MAAS importer (default both). */
    version?: MaasVersion | 'both';
    /** The release MAAS commissions with (default: what the MAAS version hard-codes). */
    commissioningRelease?: string;
  };
  cwd?: string;
  signal?: AbortSignal;
  /** Where proxy variables and MEPH_HTTP_* are read from for the publishing lease of a URL stream (default process.env). */
  env?: NodeJS.ProcessEnv;
  onEvent?: VerifyStreamOptions['onEvent'];
}

export interface VerifyStreamFullyResult {
  /** The stream's findings (twin-window ones turned into warnings while a publish holds the lease), then the MAAS ones. */
  findings: VerifyFinding[];
  summary: VerifySummary;
}

/**
 * Checks a stream (mirror root, index or products file; directory or http(s) URL): every
 * signature, index/products agreement, optionally every file and the MAAS import rules.
 * `summary.ok` is false when any finding is an error.
 */
export async function verifyStreamFully(stream: string, options: VerifyStreamFullyOptions = {}): Promise<VerifyStreamFullyResult> {
  const checkData = options.checkData ?? false;
  const result = await verifyStream(stream, {
    ...(options.verifier ? { verifier: options.verifier } : {}),
    checkData,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  let findings: VerifyFinding[] = result.findings.map((f) => ({ ...f }));
  if (isHttpUrl(stream)) {
    // a store a publish is writing: a document and its signature disagree for a moment (a warning, not corruption)
    const http = createHttpClient(options.env ? { env: options.env } : {});
    try {
      findings = await explainTwinWindow(stream, findings, http);
    } finally {
      http.close();
    }
  }

  let maasFindings: number | undefined;
  if (options.maas) {
    const { checkMaasStream } = await import('@meph/maas-rules');
    const maas = await checkMaasStream(result.stream, {
      ...(options.maas.version !== undefined ? { maasVersion: options.maas.version } : {}),
      ...(options.maas.commissioningRelease !== undefined ? { commissioningRelease: options.maas.commissioningRelease } : {}),
      requireSigned: options.verifier !== undefined,
      checkData,
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    maasFindings = maas.length;
    for (const m of maas) findings.push({ check: 'maas', ...m });
  }
  const summary = summarizeVerify(stream, result.stats, findings, { data: checkData, ...(maasFindings !== undefined ? { maasFindings } : {}) });
  return { findings, summary };
}
