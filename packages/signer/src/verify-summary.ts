import type { VerifyStreamResult } from './verify-stream.js';

/** The closing event of a `verify`: what was checked and whether anything failed (a type, not an interface, so it is an event record). */
export type VerifySummary = {
  type: 'summary';
  stream: string;
  /** True when no finding is an error (warnings allowed). */
  ok: boolean;
  documents: number;
  signaturesChecked: number;
  signaturesGood: number;
  filesChecked?: number;
  bytesChecked?: number;
  maasFindings?: number;
  errors: number;
  warnings: number;
};

/**
 * Tallies every finding of a verify (the stream's and any added to it, e.g. MAAS rules) into
 * its summary: data counts only when files were checked, `maasFindings` only when MAAS rules ran.
 */
export function summarizeVerify(
  stream: string,
  stats: VerifyStreamResult['stats'],
  /** Anything but a `warning` (error, fatal) counts as an error. */
  findings: readonly { severity: string }[],
  checked: { data: boolean; maasFindings?: number },
): VerifySummary {
  const errors = findings.filter((f) => f.severity !== 'warning').length;
  return {
    type: 'summary',
    stream,
    ok: errors === 0,
    documents: stats.documents,
    signaturesChecked: stats.signaturesChecked,
    signaturesGood: stats.signaturesGood,
    ...(checked.data ? { filesChecked: stats.itemsChecked, bytesChecked: stats.bytesChecked } : {}),
    ...(checked.maasFindings !== undefined ? { maasFindings: checked.maasFindings } : {}),
    errors,
    warnings: findings.length - errors,
  };
}
