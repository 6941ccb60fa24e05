// Bundled in place of `string-width` inside the vendored yargs (tools/build-cli-assets.mjs):
// help text is printable ASCII, whose width is its length; the real function (grapheme
// segmentation, Unicode property regexes costing ~20 ms to compile) runs only for the rest.
// It is require()d, not imported: esbuild then wraps it in a closure that runs on first use,
// so a command whose help is all ASCII never builds those regexes (~10 ms of every start).
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

let realStringWidth;

export default function fastStringWidth(text, options) {
  if (typeof text === 'string' && PRINTABLE_ASCII.test(text)) return text.length;
  realStringWidth ??= require('meph-real-string-width').default;
  return realStringWidth(text, options);
}
