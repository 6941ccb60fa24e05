// Preloaded (node --import) into every process tools/bench/cli.ts times, meph and floors alike:
// at exit, writes the process's own CPU time (user + system, ms) and peak RSS (KiB) to
// $MEPH_BENCH_USAGE, so ratios can be given in CPU time as well as wall time on a shared machine.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.MEPH_BENCH_USAGE, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKiB: u.maxRSS }));
});
