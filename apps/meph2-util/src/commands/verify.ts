import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const verifyCommand = defineCommand({
  command: 'verify',
  describe: 'verify (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('verify: not implemented');
  },
});
