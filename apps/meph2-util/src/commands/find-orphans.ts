import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const findOrphansCommand = defineCommand({
  command: 'find-orphans',
  describe: 'find-orphans (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('find-orphans: not implemented');
  },
});
