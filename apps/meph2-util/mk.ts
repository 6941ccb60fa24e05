import { makeStream, NOBLE, JAMMY } from './src/__tests__/stream-fixture.ts';
await makeStream(process.argv[2]!, { label: 'candidate', serials: process.argv.slice(3), releases: [NOBLE, JAMMY] });
