import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Product, ProductsDocument } from '@meph/simplestreams';
import { StreamOpError } from './errors.js';
import { assertSafeRelativePath } from '@meph/simplestreams';
import { formatUpdated } from '@meph/simplestreams';
import { emptyPlan, type StreamPlan } from './plan.js';
import type { ProductsFile } from './streams.js';
import { editableCopy } from './tree.js';
import { runOnTarget, type OpIoOptions, type OpResult } from './run.js';
import { openSource } from '@meph/simplestreams';

/** `release-notification:` section of a meph2-import config (upstream §2.7). */
export interface ReleaseNotificationConfig {
  product_id: string;
  content_id: string;
  'release-notification': { version: unknown; maas_version: unknown; message: unknown };
}

/**
 * A parsed import config as a {@link ReleaseNotificationConfig}: its `release-notification:`
 * section must be a mapping (the field values are checked when the import is planned).
 */
export function parseReleaseNotificationConfig(raw: unknown, source: string): ReleaseNotificationConfig {
  const cfg = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const rn = cfg['release-notification'];
  if (rn === null || typeof rn !== 'object' || Array.isArray(rn)) throw new StreamOpError('import', `${source}: release-notification: must be a mapping of version, maas_version and message`);
  const { version, maas_version, message } = rn as Record<string, unknown>;
  return { product_id: cfg['product_id'] as string, content_id: cfg['content_id'] as string, 'release-notification': { version, maas_version, message } };
}

/** What the token file says: MAAS reads the notification from the item, not from the file. */
const TOKEN_TEXT = 'This file is unused.\n';

function checkConfig(cfg: ReleaseNotificationConfig, source: string): { version: unknown; maas_version: string; message: string } {
  const rn = cfg['release-notification'];
  if (typeof cfg.product_id !== 'string' || typeof cfg.content_id !== 'string') throw new StreamOpError('import', `${source}: product_id and content_id must be strings`);
  if (typeof rn.maas_version !== 'string' || !/^\d+\.\d+\.\d+$/.test(rn.maas_version)) {
    throw new StreamOpError('import', `${source}: release-notification.maas_version must be a quoted string like "3.5.0", got ${JSON.stringify(rn.maas_version)}`);
  }
  if (typeof rn.message !== 'string' || rn.message === '') throw new StreamOpError('import', `${source}: release-notification.message must be a non-empty string`);
  return { version: rn.version, maas_version: rn.maas_version, message: rn.message };
}

/** The next `YYYYMMDD.N` (UTC date, N from 0) not used by the product. */
export function nextDailyVersion(existing: Iterable<string>, now: Date): string {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const used = new Set(existing);
  let n = 0;
  while (used.has(`${day}.${n}`)) n++;
  return `${day}.${n}`;
}

/**
 * Plans a release-notification import (upstream §8.10): a new version carrying the notification
 * on its item, unless the newest version already carries exactly this notification. Fixed
 * [BUG?]: the original compared the config with a whole version and so added a duplicate
 * version on every run.
 */
export function planReleaseNotification(cfg: ReleaseNotificationConfig, target: readonly ProductsFile[], options: { source?: string; now?: Date } = {}): { plan: StreamPlan; token?: { path: string; text: string } } {
  const source = options.source ?? 'import config';
  const notification = checkConfig(cfg, source);
  const now = options.now ?? new Date();
  const plan = emptyPlan('import');
  const existing = target.find((f) => f.doc.content_id === cfg.content_id);
  const doc: ProductsDocument = existing
    ? editableCopy(existing.doc)
    : ({ format: 'products:1.0', content_id: cfg.content_id, datatype: 'release-notifications', products: {} });
  const product: Product = doc.products[cfg.product_id]
    ? { ...doc.products[cfg.product_id]!, versions: { ...doc.products[cfg.product_id]!.versions } }
    : { name: 'release-notifications', label: 'candidate', arch: 'all', release: 'notifications', versions: {} };
  const newest = Object.keys(product.versions).sort().at(-1);
  const current = newest ? product.versions[newest]?.items?.['release_notification']?.['release_notification'] : undefined;
  if (current !== undefined && isDeepStrictEqual(current, notification)) {
    plan.events.push({ type: 'import-skipped', product: cfg.product_id, version: newest, reason: 'the newest version already carries this notification' });
    return { plan };
  }
  const version = nextDailyVersion(Object.keys(product.versions), now);
  const rel = assertSafeRelativePath(`release-notifications/${version}/release-notification.yaml`);
  const sha256 = createHash('sha256').update(TOKEN_TEXT).digest('hex');
  const item = { ftype: 'notifications', path: rel, sha256, size: Buffer.byteLength(TOKEN_TEXT), release_notification: notification };
  product.versions[version] = { items: { release_notification: item } };
  doc.products[cfg.product_id] = product;
  doc.updated = formatUpdated(now);
  plan.copies.push({ from: rel, to: rel, item, pedigree: `${cfg.product_id}/${version}/release_notification` });
  plan.changes.push({ path: existing?.path ?? `streams/v1/${cfg.content_id}.json`, contentId: cfg.content_id, doc });
  plan.events.push({ type: 'item-inserted', content_id: cfg.content_id, product: cfg.product_id, version, item: 'release_notification', path: rel });
  return { plan, token: { path: rel, text: TOKEN_TEXT } };
}

/** `meph2-util import release-notifications.yaml TARGET`. */
export async function importReleaseNotification(cfg: ReleaseNotificationConfig, targetRoot: string, options: OpIoOptions & { source?: string; now?: Date } = {}): Promise<OpResult> {
  const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'meph-import-'));
  try {
    return await runOnTarget(targetRoot, { createTarget: true, ...options }, async (target) => {
      const { plan, token } = planReleaseNotification(cfg, target, options);
      if (token) {
        await fs.mkdir(path.join(staging, path.dirname(token.path)), { recursive: true });
        await fs.writeFile(path.join(staging, token.path), token.text);
      }
      return { plan, source: openSource(staging) };
    });
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}
