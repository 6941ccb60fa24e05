#!/usr/bin/env node
// CommonJS (bin/package.json), like what it runs, built by tools/build-cli-assets.mjs (`npm run
// build`): dist/bundle/cli.cjs is this app with the @meph libraries it uses in one script, which
// runBundle runs with a V8 code cache.
'use strict';
const { pathToFileURL } = require('node:url');
const { printCachedHelp, runBundle } = require('../dist/bundle/launch.cjs');

const here = pathToFileURL(__filename);
const argv = process.argv.slice(2);
if (!printCachedHelp(argv, new URL('../dist/help.json', here))) runBundle(new URL('../dist/bundle/cli.cjs', here), argv);
