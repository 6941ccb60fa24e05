import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured, SHARED_DIR } from '@meph/test-support';
import { spec } from '../main.js';

/**
 * Every golden answer of the reference `sstream-query` (golden/manifest.json) reproduced by
 * `meph2-util query` with the same arguments in the same directory. The reference prints
 * `--json` as json.dumps(indent=2, sort_keys=True) and `-o` lines with Python %-formatting;
 * both are plain text we reproduce exactly, so stdout is compared byte for byte (which also
 * fixes item order and every field's value).
 */
const STREAMS = path.join(SHARED_DIR, 'reference/streams');
const GOLDEN = path.join(STREAMS, 'golden');

interface ManifestEntry {
  output: string;
  cwd: string;
  sstream_query_args: string[];
  exit_code: number;
  stderr?: string;
  note?: string;
}

const manifest = JSON.parse(readFileSync(path.join(GOLDEN, 'manifest.json'), 'utf8')) as ManifestEntry[];

/** `sstream-query ARGS` → `meph2-util query ARGS`. */
const queryArgs = (entry: ManifestEntry, extra: string[] = []): string[] => ['query', ...extra, ...entry.sstream_query_args];

describe('meph2-util query reproduces the reference sstream-query answers', () => {
  it('has the 13 manifest entries', () => expect(manifest).toHaveLength(13));

  for (const entry of manifest) {
    it(`${entry.output}: sstream-query ${entry.sstream_query_args.join(' ')}`, async () => {
      const r = await runCliCaptured(spec, queryArgs(entry), { cwd: path.join(STREAMS, entry.cwd) });
      expect(r.stdout).toBe(readFileSync(path.join(GOLDEN, entry.output), 'utf8'));
      expect(r.code).toBe(entry.exit_code);
      if (entry.exit_code === 0) expect(r.stderr).toBe('');
      else {
        // Failures are one branded line, never a stack trace.
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(r.stderr).toMatch(/^meph2-util: error: /);
      }
      if (entry.output.endsWith('.json') && entry.exit_code === 0) {
        // Same answer semantically too: a JSON array of flat records with string values.
        const records = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
        for (const rec of records) for (const v of Object.values(rec)) expect(v).toBeTypeOf('string');
      }
    });
  }

  // q13: the reference (gpg) accepts the Juju test key (RSA-1024), verifies the signed index,
  // then fails on the first absent products file. openpgp.js refuses keys under 2048 bits
  // unless told otherwise, so the verbatim argv fails one step earlier (same exit code, same
  // empty output, covered above); with --allow-weak-signatures it fails exactly like the
  // reference, on the same file.
  const q13 = manifest.find((e) => e.output.startsWith('q13'))!;
  it('q13 with --allow-weak-signatures: verified index, then the same missing products file', async () => {
    const missing = /Unable to open (\S+)\. /.exec(q13.stderr ?? '')?.[1];
    expect(missing).toBe('./streams/v1/com.ubuntu.cloud:released:download.sjson');
    const r = await runCliCaptured(spec, queryArgs(q13, ['--allow-weak-signatures']), { cwd: path.join(STREAMS, q13.cwd) });
    expect(r.code).toBe(q13.exit_code);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`meph2-util: error: ${missing}: no such file (referenced by ./streams/v1/index.sjson)\n`);
  });

  it('q13 verbatim: refuses the weak test key with a hint instead', async () => {
    const r = await runCliCaptured(spec, queryArgs(q13), { cwd: path.join(STREAMS, q13.cwd) });
    expect(r.stderr).toMatch(/^meph2-util: error: \.\/streams\/v1\/index\.sjson: .*weak.*--allow-weak-signatures.*\n$/);
  });
});
