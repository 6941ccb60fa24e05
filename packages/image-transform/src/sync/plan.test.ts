import { describe, expect, it } from 'vitest';
import { parseFilters, type ProductsDocument } from '@meph/simplestreams';
import { builtVersions, currentTargetProducts, parseRebuild, planSync } from './plan.js';

const sha = 'a'.repeat(64);
function feed(stream: 'daily' | 'candidate', serials: string[], ftypes: string[] = ['root.tar.xz']): ProductsDocument {
  return {
    format: 'products:1.0',
    content_id: `com.ubuntu.cloud:${stream}:download`,
    products: {
      [`com.ubuntu.cloud.${stream}:server:24.04:amd64`]: {
        arch: 'amd64', release: 'noble', version: '24.04',
        versions: Object.fromEntries(serials.map((s) => [s, { items: Object.fromEntries(ftypes.map((f) => [f, { ftype: f, path: `x/${s}/${f}`, sha256: sha, size: 1 }])) }])),
      },
    },
  };
}
const target: ProductsDocument = {
  format: 'products:1.0',
  content_id: 'com.ubuntu.maas:candidate:v3:download',
  products: {
    'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:ga-24.04': {
      arch: 'amd64', krel: 'noble', release: 'noble',
      versions: { '20260101': { items: { squashfs: { ftype: 'squashfs', path: 'p', sha256: sha, size: 1 } } } },
    },
    // HWE kernel of another krel: does not count as "built"
    'com.ubuntu.maas.candidate:v3:boot:24.04:amd64:hwe-24.04-edge': {
      arch: 'amd64', krel: 'oracular', release: 'noble',
      versions: { '20260102': { items: { squashfs: { ftype: 'squashfs', path: 'p', sha256: sha, size: 1 } } } },
    },
    'com.ubuntu.maas.daily:v3:boot:24.04:amd64:ga-24.04': { arch: 'amd64', krel: 'noble', release: 'noble', versions: {} },
  },
};
const buildable = new Map([['noble', new Set(['amd64'])]]);
const base = { target, buildable, filters: parseFilters([]), max: 1, rebuild: new Map<string, string>() };

describe('planSync', () => {
  it('matches daily and candidate feeds against the target by release/arch/version', () => {
    expect(builtVersions(target).get('noble/amd64')).toEqual(new Set(['20260101']));
    for (const stream of ['daily', 'candidate'] as const) {
      expect(planSync({ ...base, sources: [feed(stream, ['20260101'])] }).jobs).toEqual([]);
      expect(planSync({ ...base, sources: [feed(stream, ['20260101', '20260102'])] }).jobs.map((j) => j.version)).toEqual(['20260102']);
    }
  });
  it('--max limits the source versions considered, newest first', () => {
    const plan = planSync({ ...base, max: 3, sources: [feed('daily', ['20251230', '20251231', '20260101', '20260102'])] });
    expect(plan.jobs.map((j) => j.version)).toEqual(['20260102', '20251231']);
    expect(plan.skipped.map((s) => s.version)).toEqual(['20260101']);
  });
  it('--rebuild FROM:TO builds FROM under the name TO, once', () => {
    const rebuild = parseRebuild(['20260101:20260101.1']) as Map<string, string>;
    const plan = planSync({ ...base, rebuild, sources: [feed('daily', ['20260101'])] });
    expect(plan.jobs.map((j) => [j.sourceVersion, j.version])).toEqual([['20260101', '20260101.1']]);
    expect(parseRebuild(['20260101'])).toBe('20260101');
  });
  it('prefers squashfs, then root.tar.xz, then tar.gz; filters apply to the item', () => {
    expect(planSync({ ...base, target: undefined, sources: [feed('daily', ['1'], ['tar.gz', 'squashfs', 'root.tar.xz'])] }).jobs[0]!.item.ftype).toBe('squashfs');
    expect(planSync({ ...base, target: undefined, sources: [feed('daily', ['1'], ['tar.gz', 'root.tar.xz'])] }).jobs[0]!.item.ftype).toBe('root.tar.xz');
    expect(planSync({ ...base, target: undefined, sources: [feed('daily', ['1'], ['disk1.img'])] }).jobs).toEqual([]);
    expect(planSync({ ...base, target: undefined, filters: parseFilters(['arch=arm64']), sources: [feed('daily', ['1'])] }).jobs).toEqual([]);
    expect(planSync({ ...base, target: undefined, buildable: new Map(), sources: [feed('daily', ['1'])] }).jobs).toEqual([]);
  });
  it('drops target products of other streams', () => {
    const { doc, dropped } = currentTargetProducts(target, 'com.ubuntu.maas:candidate:v3:download');
    expect(dropped).toEqual(['com.ubuntu.maas.daily:v3:boot:24.04:amd64:ga-24.04']);
    expect(Object.keys(doc.products)).toHaveLength(2);
  });
});
