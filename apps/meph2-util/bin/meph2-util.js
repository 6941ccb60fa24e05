#!/usr/bin/env node
import { printCachedHelp } from '@meph/cli-kit/fast-help';

if (!printCachedHelp(process.argv.slice(2), new URL('../dist/help.json', import.meta.url))) await import('../dist/cli.js');
