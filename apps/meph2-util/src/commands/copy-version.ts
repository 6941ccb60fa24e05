import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const copyVersionCommand = defineCommand({
  command: 'copy-version',
  describe: 'copy-version (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('copy-version: not implemented');
  },
});
