import { describe, expect, it } from 'vitest';
import { compareVersions, newestFirst, resolveWork } from './versions.js';

describe('compareVersions / newestFirst', () => {
  it('orders by plain string comparison, never numerically', () => {
    expect(['9', '20260101', '20121026.1', 'samepaths'].sort(compareVersions)).toEqual(['20121026.1', '20260101', '9', 'samepaths']);
    expect(newestFirst(['1', '3', '2'])).toEqual(['3', '2', '1']);
  });
});

describe('resolveWork (simplestreams resolve_work)', () => {
  it('adds missing source versions, newest first, within max', () => {
    expect(resolveWork(['1', '2', '3'], ['1'], undefined, true)).toEqual({ add: ['3', '2'], remove: [] });
    expect(resolveWork(['1', '2', '3'], [], 2, false)).toEqual({ add: ['3', '2'], remove: [] });
    expect(resolveWork(['5'], ['1', '2', '3'], 3, true)).toEqual({ add: ['5'], remove: ['1'] });
    // an old version does not get in when max newer ones are there
    expect(resolveWork(['0', '1', '2'], ['1', '2'], 2, true)).toEqual({ add: [], remove: [] });
    expect(resolveWork(['0', '1', '2', '3'], ['1', '2'], 3, false)).toEqual({ add: ['3'], remove: [] });
    expect(resolveWork(['1', '2', '3'], ['1', '2', '3'], 1, false)).toEqual({ add: [], remove: ['1', '2'] });
    // string order: '9' is newer than '20260101'
    expect(resolveWork(['9', '20260101'], [], 1, false).add).toEqual(['9']);
  });
});
