import { main } from '@meph/cli-kit';
import { spec } from './main.js';

await main(spec);
