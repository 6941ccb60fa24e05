import os from 'node:os';
import path from 'node:path';
import { isHttpUrl, type Filter } from '@meph/simplestreams';
import type { BuildConfig } from '../config/types.js';
import { SyncRequestError } from '../errors.js';
import { parseRebuild } from './plan.js';
import { defaultSyncArches, syncSourceFilters } from './sync.js';

/** What a cloudimg-sync command line gives, before defaults. */
export interface SyncRequestInput {
  /** `--arches`, split; absent = the host's default arches, as the original. */
  arches?: readonly string[];
  /** The user's filters on source items (`key=value`, …). */
  filters: readonly string[];
  /** `--rebuild FROM:TO`, each. */
  rebuild: readonly string[];
  /** `--target`; absent = the config's default_target. */
  target?: string;
  source: string;
  config: BuildConfig;
  /** The config file read (named when it has no default_target). */
  configPath: string;
  /** Local paths are relative to this; URLs and `force` stay as they are. */
  cwd: string;
  /** Host machine for the default arches (default: os.machine()). */
  machine?: string;
}

/** The parts of {@link SyncOptions} a command line decides. */
export interface SyncRequest {
  arches: string[];
  filters: Filter[];
  rebuild: Map<string, string>;
  target: string;
  source: string;
}

/**
 * Resolves a cloudimg-sync command line into what runSync takes: `--rebuild` pairs, the arches
 * (given, else the host's default), the source filters (those arches, then the user's), the
 * target (given, else the config's default_target) and local paths made absolute. What cannot
 * be resolved is a {@link SyncRequestError} (exit status 2).
 */
export function resolveSyncRequest(input: SyncRequestInput): SyncRequest {
  const rebuild = parseRebuild(input.rebuild);
  if (typeof rebuild === 'string') throw new SyncRequestError(`--rebuild ${JSON.stringify(rebuild)}: expected FROM:TO, e.g. 20260101:20260101.1`);
  const machine = input.machine ?? os.machine();
  const arches = input.arches ? [...input.arches] : defaultSyncArches(machine);
  if (!arches?.length) throw new SyncRequestError(`no default arches for host arch ${machine}`, 'pass --arches');
  const local = (where: string): string => (isHttpUrl(where) || where === 'force' ? where : path.resolve(input.cwd, where));
  const target = input.target ?? input.config.defaultTarget;
  if (!target)
    throw new SyncRequestError(`${input.configPath} has no default_target and no --target was given`, 'pass --target URL, or --target force to build as if the stream were empty');
  return { arches, filters: syncSourceFilters(arches, input.filters), rebuild, target: local(target), source: local(input.source) };
}
