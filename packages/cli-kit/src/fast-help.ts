import { readFileSync } from 'node:fs';

/**
 * Prints a help page from the app's build-time help cache (`dist/help.json`, written by
 * tools/build-cli-assets.mjs from the same yargs definitions) when argv is exactly a help
 * request: `--help`, or `COMMAND --help`. Only for output that is not a terminal, whose width
 * (100 columns) the cache was rendered for; a terminal gets yargs' live rendering. Returns
 * false when it printed nothing, so the bin goes on to load the CLI. Imports nothing but fs:
 * this is what keeps `--help` at the cost of starting node.
 */
export function printCachedHelp(argv: readonly string[], cache: URL, stdout: NodeJS.WriteStream = process.stdout): boolean {
  if (stdout.isTTY || process.env['MEPH_NO_HELP_CACHE']) return false;
  const isHelp = (a: string | undefined): boolean => a === '--help' || a === '-h';
  let key: string | undefined;
  if (argv.length === 1 && isHelp(argv[0])) key = '';
  else if (argv.length === 2 && isHelp(argv[1]) && !argv[0]!.startsWith('-')) key = argv[0];
  if (key === undefined) return false;
  let pages: Record<string, string>;
  try {
    pages = JSON.parse(readFileSync(cache, 'utf8')) as Record<string, string>;
  } catch {
    return false;
  }
  const page = pages[key];
  if (page === undefined) return false;
  stdout.write(page);
  return true;
}
