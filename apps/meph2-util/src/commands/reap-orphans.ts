import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const reapOrphansCommand = defineCommand({
  command: 'reap-orphans',
  describe: 'reap-orphans (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('reap-orphans: not implemented');
  },
});
