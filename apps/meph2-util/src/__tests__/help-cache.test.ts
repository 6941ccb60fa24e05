import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleHelpPages } from '@meph/test-support';
import { spec } from '../main.js';

describe('meph2-util --help cache', () => {
  it('dist/help.json holds every help page exactly as yargs renders it now (run npm run build)', async () => {
    expect(await staleHelpPages(spec, path.resolve(import.meta.dirname, '../..'))).toEqual([]);
  });
});
