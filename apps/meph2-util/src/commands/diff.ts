import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const diffCommand = defineCommand({
  command: 'diff',
  describe: 'diff (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('diff: not implemented');
  },
});
