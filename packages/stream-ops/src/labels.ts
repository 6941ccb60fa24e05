import path from 'node:path';
import { StreamOpError } from './errors.js';

/**
 * Stream labels as `diff`/`patch` use them (upstream §2.8): the label of a products file is the
 * second `:` field of its basename (`com.ubuntu.maas:stable:v3:download.json` → `stable`), and
 * patch/diff documents name files and products with that label taken out.
 */
export function streamLabel(productsPath: string): string {
  const fields = path.posix.basename(productsPath).split(':');
  const label = fields[1];
  if (fields.length < 3 || !label) {
    throw new StreamOpError('label', `${productsPath}: cannot derive a stream label from this file name`, {
      hint: 'products files are named <prefix>:<label>:<rest>.json, e.g. com.ubuntu.maas:stable:v3:download.json',
    });
  }
  return label;
}

/**
 * `com.ubuntu.maas:stable:v3:download.json` → `com.ubuntu.maas:v3:download.json` (a signed
 * `.sjson` name gives the same key, so signed and unsigned reads of a stream compare equal).
 */
export function unlabelStreamName(productsPath: string): string {
  const fields = path.posix.basename(productsPath).replace(/\.sjson$/, '.json').split(':');
  fields.splice(1, 1);
  return fields.join(':');
}

/** The file name of `labelless` (a key of a patch document) for a stream labelled `label`. */
export function labelStreamName(labelless: string, label: string): string {
  const fields = labelless.split(':');
  fields.splice(1, 0, label);
  return fields.join(':');
}

function labelPosition(productId: string, label: string): { index: number; sep: string } | undefined {
  const dot = productId.indexOf(`.${label}:`);
  const colon = productId.indexOf(`:${label}:`);
  const hits = [
    { index: dot, sep: '.' },
    { index: colon, sep: ':' },
  ].filter((h) => h.index >= 0);
  hits.sort((a, b) => a.index - b.index);
  return hits[0];
}

/** `com.ubuntu.maas.stable:v3:boot:…` → `com.ubuntu.maas:v3:boot:…` (label `stable`). */
export function unlabelProductId(productId: string, label: string): string {
  const at = labelPosition(productId, label);
  if (!at) return productId;
  return productId.slice(0, at.index) + productId.slice(at.index + label.length + 1);
}

/** `com.ubuntu.maas.candidate:v3:…` → `com.ubuntu.maas.stable:v3:…`. */
export function relabelProductId(productId: string, from: string, to: string): string {
  const at = labelPosition(productId, from);
  if (!at) return productId;
  return `${productId.slice(0, at.index)}${at.sep}${to}${productId.slice(at.index + from.length + 1)}`;
}
