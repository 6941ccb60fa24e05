import { describe, expect, it } from 'vitest';
import type { BuildConfig } from '../config/types.js';
import { SyncRequestError } from '../errors.js';
import { resolveSyncRequest } from './request.js';

const config = { defaultTarget: 'https://images.example/stable/streams/v1/index.json' } as BuildConfig;
const base = { filters: ['release=noble'], rebuild: [], source: 'feed/index.json', config, configPath: '/conf/meph.yaml', cwd: '/work' };

describe('resolveSyncRequest', () => {
  it("defaults: the host's arches (as the original), the config's default_target; local paths made absolute, URLs and force kept", () => {
    const r = resolveSyncRequest({ ...base, machine: 'aarch64' });
    expect(r.arches).toEqual(['arm64', 'armhf']);
    expect(r.filters.map((f) => f.text)).toEqual(['arch~(arm64|armhf)', 'release=noble']);
    expect(r.target).toBe(config.defaultTarget);
    expect(r.source).toBe('/work/feed/index.json');
    expect(resolveSyncRequest({ ...base, target: 'force', arches: ['amd64'] })).toMatchObject({ target: 'force', arches: ['amd64'] });
    expect(resolveSyncRequest({ ...base, target: 'out.d', arches: ['amd64'], rebuild: ['20260101:20260101.1'] })).toMatchObject({ target: '/work/out.d', rebuild: new Map([['20260101', '20260101.1']]) });
  });

  it('refuses a --rebuild without FROM:TO, a host without default arches and a config without default_target (exit status 2)', () => {
    const refused = (input: Parameters<typeof resolveSyncRequest>[0]): SyncRequestError => {
      try {
        resolveSyncRequest(input);
      } catch (e) {
        expect(e).toBeInstanceOf(SyncRequestError);
        expect((e as SyncRequestError).exitCode).toBe(2);
        return e as SyncRequestError;
      }
      throw new Error('not refused');
    };
    expect(refused({ ...base, rebuild: ['20260101'] }).message).toBe('--rebuild "20260101": expected FROM:TO, e.g. 20260101:20260101.1');
    expect(refused({ ...base, machine: 'mips' }).message).toBe('no default arches for host arch mips');
    expect(refused({ ...base, arches: ['amd64'], config: {} as BuildConfig }).message).toBe('/conf/meph.yaml has no default_target and no --target was given');
  });
});
