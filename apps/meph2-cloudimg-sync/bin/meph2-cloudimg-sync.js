#!/usr/bin/env node
// dist/bundle/ is built by tools/build-cli-assets.mjs (`npm run build`): cli.cjs is this app
// with the @meph libraries it uses in one script, which runBundle runs with a V8 code cache.
import { printCachedHelp, runBundle } from '../dist/bundle/launch.js';

const argv = process.argv.slice(2);
if (!printCachedHelp(argv, new URL('../dist/help.json', import.meta.url))) runBundle(new URL('../dist/bundle/cli.cjs', import.meta.url), argv);
