// Bundled in place of `assert` inside the vendored yargs (tools/build-cli-assets.mjs): yargs
// asserts its own invariants with two functions, and node:assert (with its error formatting,
// a few ms of every start) is loaded only when one of them fails.
export function notStrictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) require('node:assert').notStrictEqual(actual, expected, message);
}

export function strictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) require('node:assert').strictEqual(actual, expected, message);
}
