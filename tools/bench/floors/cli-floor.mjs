// Floors for tools/bench/cli.ts: the least a one-process tool must do for the same answer.
//   query INDEX [KEY REGEX MAX]  read the index and each products file, JSON.parse, flatten and
//                                select items in a plain loop, JSON.stringify the array to stdout
//   rewrite PRODUCTS INDEX       JSON.parse + JSON.stringify + write (temp + rename) of both files
//   insert BUILD_PRODUCTS BUILD_ROOT TARGET_ROOT TARGET_PRODUCTS TARGET_INDEX
//                                place the build's data files in the target, then rewrite the
//                                target's products file and index (the merge itself is left out)
//   promote SRC_PRODUCTS SRC_ROOT RELEASE VERSION TARGET_ROOT
//                                parse the source, select that version of that release, place its
//                                data files in the target, write the target's products file and index
// Placing a data file is the least a tool must do for it: make its directory, hard-link it from
// the source and check its sha256 (meph verifies every file it places).
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  for (const file of args) rewrite(file);
} else if (mode === 'insert') {
  const [buildProducts, buildRoot, targetRoot, ...targetFiles] = args;
  place(JSON.parse(readFileSync(buildProducts, 'utf8')), buildRoot, targetRoot);
  for (const file of targetFiles) rewrite(file);
} else if (mode === 'promote') {
  const [srcProducts, srcRoot, release, version, targetRoot] = args;
  const doc = JSON.parse(readFileSync(srcProducts, 'utf8'));
  const products = {};
  for (const [pname, p] of Object.entries(doc.products)) {
    if (p.release === release && p.versions[version]) products[pname] = { ...p, versions: { [version]: p.versions[version] } };
  }
  const selected = { ...doc, products };
  place(selected, srcRoot, targetRoot);
  const rel = `streams/v1/${doc.content_id}.json`;
  writeAtomic(path.join(targetRoot, rel), JSON.stringify(selected, null, 1));
  const index = { format: 'index:1.0', index: { [doc.content_id]: { format: doc.format, path: rel, products: Object.keys(products).sort() } } };
  writeAtomic(path.join(targetRoot, 'streams/v1/index.json'), JSON.stringify(index, null, 1));
} else {
  console.error('usage: cli-floor.mjs query INDEX [KEY REGEX MAX] | rewrite FILE… | insert BUILD_PRODUCTS BUILD_ROOT TARGET_ROOT FILE… | promote SRC_PRODUCTS SRC_ROOT RELEASE VERSION TARGET_ROOT');
  process.exit(2);
}

function writeAtomic(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.floor-tmp`, text);
  renameSync(`${file}.floor-tmp`, file);
}

function rewrite(file) {
  writeAtomic(file, JSON.stringify(JSON.parse(readFileSync(file, 'utf8')), null, 1));
}

/** Every data file the document's items name, placed from `srcRoot` into `destRoot`. */
function place(doc, srcRoot, destRoot) {
  const placed = new Set();
  for (const p of Object.values(doc.products)) {
    for (const v of Object.values(p.versions)) {
      for (const item of Object.values(v.items)) {
        if (placed.has(item.path)) continue;
        placed.add(item.path);
        const dest = path.join(destRoot, item.path);
        mkdirSync(path.dirname(dest), { recursive: true });
        linkSync(path.join(srcRoot, item.path), dest);
        if (createHash('sha256').update(readFileSync(dest)).digest('hex') !== item.sha256) throw new Error(`${dest}: sha256 mismatch`);
      }
    }
  }
}
