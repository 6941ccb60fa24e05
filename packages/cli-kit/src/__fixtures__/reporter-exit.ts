// Child for reporter.test.ts: reports N lines on the real process.stderr (and --json events on
// stdout), then ends the way argv[2] says — without closing the reporter.
import { createReporter } from '../reporter.js';

const [how, json] = process.argv.slice(2);
const reporter = createReporter({ json: json === 'json' });
for (let i = 1; i <= 500; i++) reporter.emit({ type: 'version-removed', n: i });
reporter.info('last line');
if (how === 'exit') process.exit(3);
if (how === 'throw') process.nextTick(() => {
  throw new Error('crash after reporting');
});
if (how === 'reject') void Promise.reject(new Error('rejected after reporting'));
