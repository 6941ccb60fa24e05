// Child process for the crash test: applies the update described in a job file with
// commitStreamUpdate and SIGKILLs itself right after its N-th commit event.
import { readFileSync } from 'node:fs';
import { commitStreamUpdate, type StreamUpdate } from '../commit.js';

const [jobFile, killAfterText] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobFile!, 'utf8')) as { root: string; update: StreamUpdate };
const killAfter = Number(killAfterText ?? '0');
let events = 0;
process.stdout.write('started\n');
await commitStreamUpdate(job.root, {
  ...job.update,
  concurrency: 1,
  onEvent: (e) => {
    events++;
    process.stdout.write(`${JSON.stringify(e)}\n`);
    if (events === killAfter) process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write('done\n');
