// Preload (--import) for startup-modules.test.ts: appends every module URL the process loads
// (ES modules and built-ins through the loader, CommonJS through require) to $MEPH_RECORD_LOADS.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const out = process.env.MEPH_RECORD_LOADS;
register(`data:text/javascript,${encodeURIComponent(`
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(out)}, url + '\\n');
  return next(url, context);
}`)}`);
const original = Module.prototype.require;
Module.prototype.require = function (id) {
  appendFileSync(out, `require:${id}\n`);
  return original.apply(this, arguments);
};
