import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/** `--log-file`: every log line (at the chosen -v level), timestamped, appended to a file. */
export function openLogFile(file: string): (line: string) => void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  appendFileSync(file, '');
  return (line) => appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
}
