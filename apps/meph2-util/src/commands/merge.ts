import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const mergeCommand = defineCommand({
  command: 'merge',
  describe: 'merge (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('merge: not implemented');
  },
});
