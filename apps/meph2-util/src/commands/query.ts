import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const queryCommand = defineCommand({
  command: 'query',
  describe: 'query (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('query: not implemented');
  },
});
