import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const promoteCommand = defineCommand({
  command: 'promote',
  describe: 'promote (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('promote: not implemented');
  },
});
