// The fake converter (`--fake`, MAAS_CLOUDIMG2EPH2=fake): small placeholder artifacts in seconds, for
// stream-tooling tests and debugging, like the original's fake-maas-cloudimg2eph2. Its own entry
// point (`@meph/image-transform/fake`), not part of the main one; selectConverter loads it on demand.
export { fakeConverter } from './fake-converter.js';
