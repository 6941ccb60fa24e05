import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const cleanMdCommand = defineCommand({
  command: 'clean-md',
  describe: 'clean-md (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('clean-md: not implemented');
  },
});
