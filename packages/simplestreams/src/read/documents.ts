import { FormatError } from '../errors.js';
import { INDEX_FORMAT, PRODUCTS_FORMAT, type IndexDocument, type ProductsDocument, type StreamDocument } from '../model.js';
import { assertSafeRelativePath } from '../paths.js';
import { parseJson } from './json.js';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toValue(textOrValue: unknown, source: string): unknown {
  return typeof textOrValue === 'string' ? parseJson(textOrValue, source) : textOrValue;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function checkFormat(doc: unknown, source: string, expected: string): asserts doc is Obj {
  if (!isObject(doc)) throw new FormatError(source, `expected a JSON object (${expected} document), found ${describeType(doc)}`);
  const format = doc['format'];
  if (format === undefined) throw new FormatError(source, `has no "format" field (expected "${expected}")`);
  if (format !== expected) {
    throw new FormatError(source, `format is ${JSON.stringify(format)}, expected "${expected}"`, 'only simplestreams v1 documents (index:1.0, products:1.0) are supported');
  }
}

export interface ParseOptions {
  /**
   * Also refuse any product, version or item `path` that is not a safe relative path (what
   * assertProductsPathsSafe checks), in the same walk.
   */
  checkPaths?: boolean;
}

/**
 * Validates a products:1.0 document (text or already-parsed value) and returns it typed. The
 * value is not copied: unknown fields stay exactly where they are.
 */
export function parseProducts(textOrValue: unknown, source: string, options: ParseOptions = {}): ProductsDocument {
  const doc = toValue(textOrValue, source);
  checkFormat(doc, source, PRODUCTS_FORMAT);
  if (typeof doc['content_id'] !== 'string' || doc['content_id'] === '') throw new FormatError(source, 'has no "content_id" string');
  const products = doc['products'];
  if (products === undefined) throw new FormatError(source, 'has no "products" object');
  if (!isObject(products)) throw new FormatError(source, `"products" must be an object, found ${describeType(products)}`);
  const checkPaths = Boolean(options.checkPaths);
  const checkPath = (p: unknown): void => {
    if (p !== undefined && p !== '') assertSafeRelativePath(p, source);
  };
  for (const pname in products) {
    const product = products[pname];
    if (!isObject(product)) throw new FormatError(source, `product ${JSON.stringify(pname)} must be an object, found ${describeType(product)}`);
    if (checkPaths) checkPath(product['path']);
    const versions = product['versions'];
    if (versions === undefined) continue;
    if (!isObject(versions)) throw new FormatError(source, `"versions" of product ${JSON.stringify(pname)} must be an object`);
    for (const vname in versions) {
      const version = versions[vname];
      if (!isObject(version)) throw new FormatError(source, `version ${JSON.stringify(vname)} of ${JSON.stringify(pname)} must be an object`);
      if (checkPaths) checkPath(version['path']);
      const items = version['items'];
      if (items === undefined) continue;
      if (!isObject(items)) throw new FormatError(source, `"items" of ${pname} ${vname} must be an object`);
      for (const iname in items) {
        const item = items[iname];
        if (!isObject(item)) throw new FormatError(source, `item ${JSON.stringify(iname)} of ${pname} ${vname} must be an object`);
        if (checkPaths) checkPath(item['path']);
      }
    }
  }
  return doc as ProductsDocument;
}

/** Validates an index:1.0 document (text or parsed value) and returns it typed. */
export function parseIndex(textOrValue: unknown, source: string): IndexDocument {
  const doc = toValue(textOrValue, source);
  checkFormat(doc, source, INDEX_FORMAT);
  const index = doc['index'];
  if (index === undefined) throw new FormatError(source, 'has no "index" object');
  if (!isObject(index)) throw new FormatError(source, `"index" must be an object, found ${describeType(index)}`);
  for (const cid in index) {
    const entry = index[cid];
    if (!isObject(entry)) throw new FormatError(source, `index entry ${JSON.stringify(cid)} must be an object`);
    if (entry['path'] !== undefined && typeof entry['path'] !== 'string') throw new FormatError(source, `"path" of index entry ${JSON.stringify(cid)} must be a string`);
    if (entry['products'] !== undefined && !Array.isArray(entry['products'])) throw new FormatError(source, `"products" of index entry ${JSON.stringify(cid)} must be an array`);
  }
  return doc as IndexDocument;
}

/** Parses either kind of v1 document, dispatching on its `format`. */
export function parseDocument(textOrValue: unknown, source: string, options: ParseOptions = {}): StreamDocument {
  const doc = toValue(textOrValue, source);
  if (isObject(doc) && doc['format'] === INDEX_FORMAT) return parseIndex(doc, source);
  if (isObject(doc) && doc['format'] === PRODUCTS_FORMAT) return parseProducts(doc, source, options);
  if (!isObject(doc)) throw new FormatError(source, `expected a JSON object (simplestreams document), found ${describeType(doc)}`);
  if (doc['format'] === undefined) throw new FormatError(source, `has no "format" field (expected "${INDEX_FORMAT}" or "${PRODUCTS_FORMAT}")`);
  throw new FormatError(source, `format is ${JSON.stringify(doc['format'])}, expected "${INDEX_FORMAT}" or "${PRODUCTS_FORMAT}"`, 'only simplestreams v1 documents are supported');
}
