// Child process of launch.test.ts: runs the bundle $MEPH_TEST_BUNDLE as an app's bin does
// (tsx, which runs this file, turns source maps on; a bin runs without them).
import { pathToFileURL } from 'node:url';
import { runBundle } from '../launch.js';

process.setSourceMapsEnabled(false);
runBundle(pathToFileURL(process.env['MEPH_TEST_BUNDLE']!));
