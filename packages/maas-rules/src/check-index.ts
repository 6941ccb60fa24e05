import { BOTH, NEW, OLD, FindingList, consequenceText } from './rules.js';
import { checkUpdatedFormat, DATATYPES } from './check-products.js';
import { describeType, isRecord, records, type Rec } from './kinds.js';
import { maasPathProblem } from './paths.js';

/** One index MAAS could be pointed at: `streams/v1/index.json` or `index.sjson`. */
export interface IndexTree {
  path: string;
  value: unknown;
  signed: boolean;
}

/** Index entries as a list, tolerant of a malformed index. */
export function indexEntries(value: unknown): Array<[string, Rec]> {
  return isRecord(value) ? records(value['index']) : [];
}

/** Rules 1, 3 (entry extensions), 4, 5 (nested index) and 13 (entry paths) for one index. */
export function checkIndexDocument(list: FindingList, tree: IndexTree): void {
  const file = tree.path;
  const report = (id: Parameters<FindingList['report']>[0], maas: typeof BOTH, message: string, extra: object = {}) =>
    list.report(id, { file, maas, message, ...extra });
  if (!isRecord(tree.value)) {
    report('R-IDX-01', BOTH, `${file} is ${describeType(tree.value)}, not an index document`);
    return;
  }
  const doc = tree.value;
  if (doc['format'] !== 'index:1.0') report('R-IDX-01', OLD, `format is ${JSON.stringify(doc['format'])}, not "index:1.0"`);
  if (doc['updated'] === undefined) {
    report('R-IDX-01', NEW, 'top-level "updated" is missing (an RFC 2822 date such as "Thu, 24 Jul 2025 08:01:49 +0000")');
  } else if (typeof doc['updated'] !== 'string') {
    report('R-IDX-01', NEW, `top-level "updated" is ${describeType(doc['updated'])}, not a string`);
  } else {
    checkUpdatedFormat({ report: (id, maas, message, extra) => report(id, maas, message, extra) }, doc['updated'], 'top-level "updated"');
  }
  const entries = indexEntries(doc);
  if (!isRecord(doc['index']) || entries.length === 0) {
    report('R-IDX-01', BOTH, `"index" is ${isRecord(doc['index']) ? 'empty' : 'missing'}; MAAS finds no products files`);
    return;
  }
  for (const [key, entry] of entries) {
    const at = (message: string) => `index entry "${key}": ${message}`;
    const path = entry['path'];
    if (typeof path !== 'string') {
      report('R-IDX-04', BOTH, at(`"path" is ${path === undefined ? 'missing' : describeType(path)}`), {
        consequence: `${consequenceText('source', NEW)} ${consequenceText('file-skipped', OLD)}`,
      });
    } else {
      const problem = maasPathProblem(path);
      if (problem) report('R-URL-13', problem.maas, at(`path "${path}" ${problem.reason}`));
      const wanted = tree.signed ? '.sjson' : '.json';
      if (!path.endsWith(wanted)) {
        report('R-SIG-03', BOTH, at(`${file} lists "${path}"; a ${tree.signed ? 'signed' : 'unsigned'} index must list ${wanted} files`), {
          detail: tree.signed
            ? 'The 3.7 importer finds no signature in it ("No signature found!"); 3.8 fails to verify it.'
            : 'Without signature checking MAAS cannot parse a signed file.',
        });
      }
    }
    const format = entry['format'];
    if (format === 'index:1.0') {
      report('R-IDX-05', NEW, at('is a nested index; MAAS 3.8 reads every entry as a products file'));
    } else if (format !== 'products:1.0') {
      report('R-IDX-04', OLD, at(`format is ${format === undefined ? 'missing' : JSON.stringify(format)}, not "products:1.0"`), {
        effect: 'file-skipped',
      });
    }
    if (entry['updated'] === undefined) report('R-IDX-04', NEW, at('"updated" is missing'));
    else if (typeof entry['updated'] !== 'string') report('R-IDX-04', NEW, at(`"updated" is ${describeType(entry['updated'])}`));
    else checkUpdatedFormat({ report: (id, maas, message, extra) => report(id, maas, at(message), extra) }, entry['updated'], '"updated"');
    const products = entry['products'];
    if (!Array.isArray(products) || !products.every((p) => typeof p === 'string')) {
      report('R-IDX-04', NEW, at(`"products" is ${products === undefined ? 'missing' : 'not a list of product ids'}`));
    }
    const datatype = entry['datatype'];
    if (datatype === undefined) {
      report('R-IDX-04', NEW, at('"datatype" is missing (write "image-ids")'), {
        severity: 'warning',
        consequence: 'MAAS 3.8 accepts it, but other clients select entries by datatype.',
      });
    } else if (!DATATYPES.includes(datatype as string)) {
      report('R-IDX-04', NEW, at(`datatype ${JSON.stringify(datatype)} is not "image-ids" or "image-downloads"`), {
        detail: 'Offer MAAS an index without notification or other non-image streams.',
      });
    }
    if ('name' in entry) report('R-IDX-04', NEW, at('has a key "name", which MAAS 3.8 reserves for the entry key'));
  }
}
