export * from './types.js';
export { loadBuildConfig, parseBuildConfig, KNAME_KEYS } from './load.js';
export * from './settings.js';
export { hostDebianMirror, readHostAptSources, parseDeb822Sources, parseOneLineSources, type AptSource } from './host-mirror.js';
