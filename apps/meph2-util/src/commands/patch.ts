import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const patchCommand = defineCommand({
  command: 'patch',
  describe: 'patch (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('patch: not implemented');
  },
});
