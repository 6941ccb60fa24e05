import { main } from '@meph/cli-kit';
import { spec } from './main.js';

// (no top-level await: the bin runs this bundled as a CommonJS script, tools/build-cli-assets.mjs)
void main(spec);
