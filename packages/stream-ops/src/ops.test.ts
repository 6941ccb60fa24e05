import { describe, expect, it } from 'vitest';
import type { ProductsDocument } from '@meph/simplestreams';
import { labelStreamName, relabelProductId, streamLabel, unlabelProductId, unlabelStreamName } from './labels.js';
import { diffStreams } from './diff.js';
import { formatPatch, parsePatch } from './patch-format.js';
import { planPatch } from './patch.js';
import { planInsert, promoteTransform, promoteTransformFor } from './insert.js';
import { planCleanMd } from './clean-md.js';
import { planCopyVersion, planRemoveVersion } from './versions.js';
import { planMerge } from './merge.js';
import type { ProductsFile } from './streams.js';

const item = (path: string, sha = path) => ({ ftype: 'squashfs', path, sha256: sha.padEnd(64, '0').slice(0, 64), size: 10 });

function stream(label: string, products: Record<string, string[]>, extra: Record<string, unknown> = {}): ProductsFile {
  const doc: ProductsDocument = { format: 'products:1.0', content_id: `com.ubuntu.maas:${label}:v3:download`, datatype: 'image-downloads', products: {} };
  for (const [name, versions] of Object.entries(products)) {
    doc.products[`com.ubuntu.maas.${label}:v3:boot:${name}`] = {
      arch: 'amd64', label, os: 'ubuntu', release: 'noble', ...extra,
      versions: Object.fromEntries(versions.map((v) => [v, { items: { squashfs: item(`noble/amd64/${v}/squashfs`) } }])),
    };
  }
  return { path: `streams/v1/com.ubuntu.maas:${label}:v3:download.json`, doc };
}
const NOW = new Date('2026-07-23T10:07:14Z');

describe('labels', () => {
  it('derives, strips and swaps stream labels', () => {
    expect(streamLabel('streams/v1/com.ubuntu.maas:stable:v3:download.json')).toBe('stable');
    expect(unlabelStreamName('streams/v1/com.ubuntu.maas:stable:v3:download.sjson')).toBe('com.ubuntu.maas:v3:download.json');
    expect(labelStreamName('com.ubuntu.maas:v3:download.json', 'candidate')).toBe('com.ubuntu.maas:candidate:v3:download.json');
    expect(unlabelProductId('com.ubuntu.maas.stable:v3:boot:24.04:amd64:ga-24.04', 'stable')).toBe('com.ubuntu.maas:v3:boot:24.04:amd64:ga-24.04');
    expect(unlabelProductId('com.ubuntu.maas:stable:1:bootloader', 'stable')).toBe('com.ubuntu.maas:1:bootloader');
    expect(relabelProductId('com.ubuntu.maas.candidate:centos-bases:7.0:amd64', 'candidate', 'stable')).toBe('com.ubuntu.maas.stable:centos-bases:7.0:amd64');
    expect(() => streamLabel('streams/v1/odd.json')).toThrow(/cannot derive a stream label/);
  });
});

describe('planInsert / promote', () => {
  it('adds only new versions, copies their files, never removes', () => {
    const plan = planInsert([stream('candidate', { a: ['3'] })], [stream('candidate', { a: ['1', '2'], b: ['1'] })], { now: NOW });
    expect(plan.copies.map((c) => c.to)).toEqual(['noble/amd64/3/squashfs']);
    const doc = plan.changes[0]!.doc!;
    expect(Object.keys(doc.products['com.ubuntu.maas.candidate:v3:boot:a']!.versions).sort()).toEqual(['1', '2', '3']);
    expect(Object.keys(doc.products)).toContain('com.ubuntu.maas.candidate:v3:boot:b');
    expect(doc.updated).toBe('Thu, 23 Jul 2026 10:07:14 +0000');
  });
  it('plans nothing when the target already has everything', () => {
    const s = stream('candidate', { a: ['1'] });
    expect(planInsert([s], [s]).changes).toEqual([]);
  });
  it('promote renames the content id and products and relabels', () => {
    const plan = planInsert([stream('candidate', { a: ['1', '2'] })], [], { filters: ['version_name=2'], transform: promoteTransform('rc'), max: 100 });
    const change = plan.changes[0]!;
    expect(change.path).toBe('streams/v1/com.ubuntu.maas:v3:download.json');
    expect(change.doc!.content_id).toBe('com.ubuntu.maas:v3:download');
    expect(Object.keys(change.doc!.products)).toEqual(['com.ubuntu.maas:v3:boot:a']);
    expect(change.doc!.products['com.ubuntu.maas:v3:boot:a']!['label']).toBe('rc');
    expect(Object.keys(change.doc!.products['com.ubuntu.maas:v3:boot:a']!.versions)).toEqual(['2']);
  });
  it('promote into a new target takes the target label; an existing target keeps its own', () => {
    const src = [stream('candidate', { a: ['1', '2'] })];
    const fresh = planInsert(src, [], { filters: ['version_name=2'], transform: promoteTransformFor(src, []), max: 100 });
    expect(fresh.changes[0]!.path).toBe('streams/v1/com.ubuntu.maas:stable:v3:download.json');
    expect(Object.keys(fresh.changes[0]!.doc!.products)).toEqual(['com.ubuntu.maas.stable:v3:boot:a']);
    expect(fresh.changes[0]!.doc!.products['com.ubuntu.maas.stable:v3:boot:a']!['label']).toBe('stable');
    const existing = [stream('gold', { a: ['1'] })];
    const t = promoteTransformFor(src, existing, { targetLabel: 'beta', itemLabel: 'rc' });
    expect(t.contentId('com.ubuntu.maas:candidate:v3:download')).toBe('com.ubuntu.maas:gold:v3:download');
    expect(t.productId('com.ubuntu.maas.candidate:v3:boot:a', 'com.ubuntu.maas:candidate:v3:download')).toBe('com.ubuntu.maas.gold:v3:boot:a');
    expect(t.item({ path: 'x' })['label']).toBe('rc');
    expect(promoteTransformFor(src, [], { targetLabel: 'beta' }).contentId('com.ubuntu.maas:candidate:v3:download')).toBe('com.ubuntu.maas:beta:v3:download');
  });
  it('refuses unsafe item paths', () => {
    const s = stream('candidate', { a: ['1'] });
    s.doc.products['com.ubuntu.maas.candidate:v3:boot:a']!.versions['1']!.items['squashfs']!.path = '../../etc/passwd';
    expect(() => planInsert([s], [])).toThrow(/unsafe path/);
  });
});

describe('planCleanMd', () => {
  it('keeps the newest N per product, only among matching versions', () => {
    const plan = planCleanMd([stream('stable', { a: ['1', '2', '3'], b: ['1'] })], 2);
    expect(plan.events).toEqual([{ type: 'version-removed', content_id: 'com.ubuntu.maas:stable:v3:download', product: 'com.ubuntu.maas.stable:v3:boot:a', version: '1' }]);
    expect(planCleanMd([stream('stable', { a: ['1', '2', '3'] })], 1, { filters: ['release=jammy'] }).changes).toEqual([]);
    expect(() => planCleanMd([], 0)).toThrow(/at least 1/);
  });
});

describe('remove-version / copy-version', () => {
  it('match product-level fields only', () => {
    const s = stream('stable', { a: ['1', '2'] });
    expect(planRemoveVersion([s], '1', ['ftype=squashfs']).changes).toEqual([]);
    expect(planRemoveVersion([s], '1', ['arch=amd64']).events).toHaveLength(1);
    const copy = planCopyVersion([s], '2', '2.1');
    expect(copy.copies).toEqual([expect.objectContaining({ from: 'noble/amd64/2/squashfs', to: 'noble/amd64/2.1/squashfs', withinTarget: true })]);
    expect(copy.changes[0]!.doc!.products['com.ubuntu.maas.stable:v3:boot:a']!.versions['2.1']!.items['squashfs']!.path).toBe('noble/amd64/2.1/squashfs');
  });
});

describe('planMerge', () => {
  it('refuses the same item with another sha256', () => {
    const a = stream('candidate', { a: ['1'] });
    const b = structuredClone(a);
    b.doc.products['com.ubuntu.maas.candidate:v3:boot:a']!.versions['1']!.items['squashfs']!.sha256 = 'f'.repeat(64);
    expect(() => planMerge([b], [a])).toThrow(/sha256/);
    expect(planMerge([a], [a]).copies).toEqual([]);
  });
});

describe('diff → patch round trip', () => {
  it('a diff with --promote, applied as a patch, makes the target follow the source', () => {
    const src = stream('candidate', { a: ['1', '2'], c: ['1'] }, { support_eol: '2030-01-01' });
    const tgt = stream('stable', { a: ['1'], b: ['1'] }, { support_eol: '2029-01-01' });
    const diff = diffStreams([src], [tgt], { promote: true, newVersionsOnly: true });
    expect(diff['com.ubuntu.maas:v3:download.json']!.products).toEqual({
      'com.ubuntu.maas:v3:boot:a': { metadata: { support_eol: { candidate: '2030-01-01', stable: '2030-01-01' } }, versions: { '2': { labels: ['candidate', 'stable'] } } },
      'com.ubuntu.maas:v3:boot:c': { labels: ['candidate', 'stable'], metadata: {} },
    });
    const text = formatPatch(diff, { generator: 'test', date: 'now', source: 's', target: 't', newVersionsOnly: true, latestOnly: false, promote: true });
    expect(parsePatch(text, 'diff')).toEqual(diff);
    const plan = planPatch(parsePatch(text, 'diff'), [tgt], [src], { now: NOW });
    const doc = plan.changes[0]!.doc!;
    expect(Object.keys(doc.products).sort()).toEqual(['com.ubuntu.maas.stable:v3:boot:a', 'com.ubuntu.maas.stable:v3:boot:b', 'com.ubuntu.maas.stable:v3:boot:c']);
    expect(Object.keys(doc.products['com.ubuntu.maas.stable:v3:boot:a']!.versions).sort()).toEqual(['1', '2']);
    expect(doc.products['com.ubuntu.maas.stable:v3:boot:a']!['support_eol']).toBe('2030-01-01');
    expect(doc.products['com.ubuntu.maas.stable:v3:boot:c']!['label']).toBe('stable');
    expect(plan.copies.map((c) => c.to).sort()).toEqual(['noble/amd64/1/squashfs', 'noble/amd64/2/squashfs']);
    // applied again: nothing left to do
    const after = diffStreams([src], [{ ...tgt, doc }], { promote: true, newVersionsOnly: true });
    expect(after).toEqual({});
  });
  it('identical streams diff to nothing; differing items abort', () => {
    const s = stream('stable', { a: ['1'] });
    expect(diffStreams([s], [s])).toEqual({});
    const c = stream('candidate', { a: ['1'] });
    c.doc.products['com.ubuntu.maas.candidate:v3:boot:a']!.versions['1']!.items['squashfs']!.sha256 = 'e'.repeat(64);
    expect(() => diffStreams([c], [s])).toThrow(/items differ/);
  });
  it('rejects malformed patches with the location', () => {
    expect(() => parsePatch('x: [1]', 'p.yaml')).toThrow(/p.yaml: x: expected a mapping/);
    expect(() => parsePatch('x:\n  y:\n    support_eol: 5\n', 'p.yaml')).toThrow(/support_eol: expected a mapping of stream label/);
    expect(parsePatch('', 'p.yaml')).toEqual({});
  });
});
