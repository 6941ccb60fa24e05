export { parseBootloadersConfig, bootloaderProductId, type BootloadersConfig, type BootloaderEntry, type BootloaderFileRule } from './config.js';
export { compareDebianVersions } from './debian-version.js';
export { readArchiveIndex, parsePackages, type ArchivePackage, type ArchiveIndexOptions } from './debian-archive.js';
export { importBootloaders, bootloaderItemKey, DEFAULT_ARCHIVE_KEYRINGS, type BootloaderImportOptions } from './import.js';
