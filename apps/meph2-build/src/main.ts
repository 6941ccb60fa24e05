import { defineCli } from '@meph/cli-kit';
import { buildCommand } from './commands/build.js';

export const spec = defineCli({
  name: 'meph2-build',
  version: '0.1.0',
  describe: 'build one release/arch/version of a MAAS v3 image stream from a cloud image',
  commands: [buildCommand],
});
