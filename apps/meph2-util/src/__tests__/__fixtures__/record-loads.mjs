// Registered with `node --import` by lazy-loading.test.ts: appends the URL of every module the
// process resolves to $MEPH_TEST_LOAD_LOG, so a test can see which packages a command loaded.
import { register } from 'node:module';

register('./record-loads-hooks.mjs', import.meta.url, { data: { log: process.env['MEPH_TEST_LOAD_LOG'] } });
