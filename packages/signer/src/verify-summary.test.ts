import { describe, expect, it } from 'vitest';
import { summarizeVerify } from './verify-summary.js';

const stats = { documents: 3, signaturesChecked: 3, signaturesGood: 2, itemsChecked: 7, bytesChecked: 4096 };

describe('summarizeVerify', () => {
  it('counts every non-warning (error, fatal) as an error; ok only without one', () => {
    const s = summarizeVerify('./stable', stats, [{ severity: 'error' }, { severity: 'fatal' }, { severity: 'warning' }], { data: false });
    expect(s).toEqual({ type: 'summary', stream: './stable', ok: false, documents: 3, signaturesChecked: 3, signaturesGood: 2, errors: 2, warnings: 1 });
    expect(summarizeVerify('./stable', stats, [{ severity: 'warning' }], { data: false })).toMatchObject({ ok: true, errors: 0, warnings: 1 });
  });

  it('reports files and bytes only when data was checked, MAAS findings only when the rules ran', () => {
    expect(summarizeVerify('s', stats, [], { data: true, maasFindings: 0 })).toMatchObject({ filesChecked: 7, bytesChecked: 4096, maasFindings: 0, ok: true });
    const keys = Object.keys(summarizeVerify('s', stats, [], { data: false }));
    for (const k of ['filesChecked', 'bytesChecked', 'maasFindings']) expect(keys).not.toContain(k);
  });
});
