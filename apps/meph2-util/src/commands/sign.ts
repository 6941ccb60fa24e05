import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const signCommand = defineCommand({
  command: 'sign',
  describe: 'sign (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('sign: not implemented');
  },
});
