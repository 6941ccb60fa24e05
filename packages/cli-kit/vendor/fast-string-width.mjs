// Bundled in place of `string-width` inside the vendored yargs (tools/build-cli-assets.mjs):
// help text is printable ASCII, whose width is its length; the real function (grapheme
// segmentation, Unicode property regexes costing ~20 ms to compile) runs only for the rest.
import stringWidth from 'meph-real-string-width';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export default function fastStringWidth(text, options) {
  return typeof text === 'string' && PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text, options);
}
