import { defineCommand } from '@meph/cli-kit';

// Placeholder: replaced by the real command.
export const importCommand = defineCommand({
  command: 'import',
  describe: 'import (not yet implemented)',
  examples: [],
  builder: (y) => y,
  run: () => {
    throw new Error('import: not implemented');
  },
});
