#!/usr/bin/env node
// dist/bundle/ is this app with the @meph libraries it uses, bundled by tools/build-cli-assets.mjs
// (`npm run build`) into a few modules: resolving and loading ~90 small ones took longer (issue 14).
import { printCachedHelp } from '../dist/bundle/fast-help.js';

if (!printCachedHelp(process.argv.slice(2), new URL('../dist/help.json', import.meta.url))) await import('../dist/bundle/cli.js');
