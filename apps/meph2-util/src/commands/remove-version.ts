import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const removeVersionCommand = defineCommand({
  command: 'remove-version',
  describe: 'remove-version (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('remove-version: not implemented');
  },
});
