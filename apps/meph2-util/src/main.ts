import type { CliSpec } from '@meph/cli-kit';
import { queryCommand } from './commands/query.js';
import { signCommand } from './commands/sign.js';
import { verifyCommand } from './commands/verify.js';
import { findOrphansCommand } from './commands/find-orphans.js';
import { reapOrphansCommand } from './commands/reap-orphans.js';
import { insertCommand } from './commands/insert.js';
import { promoteCommand } from './commands/promote.js';
import { cleanMdCommand } from './commands/clean-md.js';
import { mergeCommand } from './commands/merge.js';
import { removeVersionCommand } from './commands/remove-version.js';
import { copyVersionCommand } from './commands/copy-version.js';
import { diffCommand } from './commands/diff.js';
import { patchCommand } from './commands/patch.js';
import { importCommand } from './commands/import.js';
import { bootTestCommand } from './commands/boot-test.js';
import { mirrorCommand } from './commands/mirror.js';
import { netbootMirrorCommand } from './commands/netboot-mirror.js';

export const spec: CliSpec = {
  name: 'meph2-util',
  version: '0.1.0',
  describe: 'manage MAAS simplestreams: edit, promote, clean, sign, verify, query and boot-test streams',
  commands: [
    queryCommand,
    signCommand,
    verifyCommand,
    findOrphansCommand,
    reapOrphansCommand,
    insertCommand,
    promoteCommand,
    cleanMdCommand,
    mergeCommand,
    removeVersionCommand,
    copyVersionCommand,
    diffCommand,
    patchCommand,
    importCommand,
    bootTestCommand,
    mirrorCommand,
    netbootMirrorCommand,
  ],
};
