import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const insertCommand = defineCommand({
  command: 'insert',
  describe: 'insert (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('insert: not implemented');
  },
});
