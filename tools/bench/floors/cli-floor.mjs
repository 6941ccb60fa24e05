// Floors for tools/bench/cli.ts: the least a one-process tool must do for the same answer.
//   query INDEX [KEY REGEX MAX]  read the index and each products file, JSON.parse, flatten and
//                                select items in a plain loop, JSON.stringify the array to stdout
//   rewrite PRODUCTS INDEX       JSON.parse + JSON.stringify + write (temp + rename) of both files
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [mode, ...args] = process.argv.slice(2);

function scalars(obj) {
  const out = {};
  for (const k in obj) if (typeof obj[k] !== 'object' || obj[k] === null) out[k] = obj[k];
  return out;
}

if (mode === 'query') {
  const [index, key, pattern, maxText] = args;
  const re = pattern === undefined ? undefined : new RegExp(pattern);
  const max = maxText === undefined ? Infinity : Number(maxText);
  const root = path.dirname(path.dirname(path.dirname(index)));
  const out = [];
  for (const entry of Object.values(JSON.parse(readFileSync(index, 'utf8')).index)) {
    const doc = JSON.parse(readFileSync(path.join(root, entry.path), 'utf8'));
    const top = scalars(doc);
    for (const pname in doc.products) {
      const product = doc.products[pname];
      const pbase = { ...top, ...scalars(product), product_name: pname };
      let kept = 0;
      for (const vname of Object.keys(product.versions).sort().reverse()) {
        if (kept >= max) break;
        const version = product.versions[vname];
        const vbase = { ...pbase, ...scalars(version), version_name: vname };
        let any = false;
        for (const iname in version.items) {
          const rec = { ...vbase, ...version.items[iname], item_name: iname, item_url: path.join(root, version.items[iname].path) };
          if (re && !re.test(String(rec[key] ?? ''))) continue;
          any = true;
          out.push(rec);
        }
        if (any) kept++;
      }
    }
  }
  process.stdout.write(JSON.stringify(out, null, 2));
} else if (mode === 'rewrite') {
  for (const file of args) {
    const text = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')), null, 1);
    writeFileSync(`${file}.floor-tmp`, text);
    renameSync(`${file}.floor-tmp`, file);
  }
} else {
  console.error('usage: cli-floor.mjs query INDEX [KEY REGEX MAX] | rewrite FILE…');
  process.exit(2);
}
