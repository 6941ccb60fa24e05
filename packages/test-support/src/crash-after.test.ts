import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const hook = path.join(import.meta.dirname, 'crash-after.ts');
const tsx = import.meta.resolve('tsx');
// What a command does: announce three committed files on the channel, then exit normally.
const commits = "const dc = await import('node:diagnostics_channel'); const c = dc.channel('meph:commit'); for (const count of [1, 2, 3]) { c.publish({ kind: 'data', path: 'f' + count, count }); console.log('committed', count); }";
const run = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync(process.execPath, [...args, '--input-type=module', '-e', commits], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('crash-after preload', () => {
  it('SIGKILLs the process right after its N-th committed file', () => {
    const r = run(['--import', tsx, '--import', hook], { MEPH_TEST_CRASH_AFTER: '2' });
    expect(r.signal).toBe('SIGKILL');
    expect(r.stdout).toBe('committed 1\n');
  });

  it('lets a run with fewer commits finish', () => {
    const r = run(['--import', tsx, '--import', hook], { MEPH_TEST_CRASH_AFTER: '4' });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('committed 1\ncommitted 2\ncommitted 3\n');
  });
});
