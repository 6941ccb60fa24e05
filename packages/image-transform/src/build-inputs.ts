import path from 'node:path';
import { loadBuildConfig } from './config/load.js';
import { resolveConfigPath } from './config/settings.js';
import type { BuildConfig } from './config/types.js';
import type { DiSourceOptions } from './di/source.js';
import { realConverter } from './pipeline/real-converter.js';
import { selectConverter, type ConverterChoice } from './select-converter.js';

/** The flags meph2-build and meph2-cloudimg-sync share that name a build's inputs (see BUILD_SETTINGS_OPTIONS). */
export interface BuildInputFlags {
  config?: string;
  fake?: boolean;
  diArchive?: string;
  /** Repeatable: one string or several. */
  diKeyring?: string | string[];
}

export interface BuildInputs {
  /** The config file read (absolute). */
  configPath: string;
  config: BuildConfig;
  converter: ConverterChoice;
  /** The d-i archive and keyrings given (keyrings absolute); defaults are resolveDiSource's. */
  di: DiSourceOptions;
}

/**
 * What both build commands read before planning: the config file (`--config` >
 * MEPH_CONFIG > MEPH2_CONFIG_YAML > `defaultConfig`), the converter (`--fake`,
 * MAAS_CLOUDIMG2EPH2, else the real pipeline) and the d-i source flags. Paths are relative to `cwd`.
 */
export async function loadBuildInputs(flags: BuildInputFlags, options: { env: NodeJS.ProcessEnv; cwd: string; defaultConfig: string }): Promise<BuildInputs> {
  const configPath = path.resolve(options.cwd, resolveConfigPath(flags.config, options.env, options.defaultConfig));
  const config = await loadBuildConfig(configPath);
  const converter = selectConverter({ fake: Boolean(flags.fake), env: options.env, cwd: options.cwd, real: realConverter });
  const keyrings = (flags.diKeyring === undefined ? [] : [flags.diKeyring].flat()).map((k) => path.resolve(options.cwd, k));
  return { configPath, config, converter, di: { ...(flags.diArchive ? { archive: flags.diArchive } : {}), ...(keyrings.length ? { keyrings } : {}) } };
}
