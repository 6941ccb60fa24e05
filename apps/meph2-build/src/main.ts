import { defineCommand, type CliSpec } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
const command = defineCommand({
  command: '$0',
  describe: 'meph2-build (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('not implemented');
  },
});

export const spec: CliSpec = {
  name: 'meph2-build',
  version: '0.1.0',
  describe: 'meph2-build',
  commands: [command],
};
