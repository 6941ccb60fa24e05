import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const bootTestCommand = defineCommand({
  command: 'boot-test',
  describe: 'boot-test (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('boot-test: not implemented');
  },
});
