/**
 * The command-line options of the build settings, as meph2-build and meph2-cloudimg-sync both
 * declare them (yargs option specs, plain data). One definition, so the two CLIs cannot drift;
 * this module imports nothing at run time, so `--help` does not load the image pipeline.
 */
import type { ConvertRequest } from '../converter.js';

export type ImageFormatSetting = ConvertRequest['imageFormat'];
export type SquashfsCompression = 'xz' | 'zstd' | 'gzip';
export const IMAGE_FORMATS = ['auto', 'img-tar', 'root-image', 'root-image-gz', 'root-tar', 'squashfs-image'] as const satisfies readonly ImageFormatSetting[];
export const SQUASHFS_COMPRESSIONS = ['xz', 'zstd', 'gzip'] as const satisfies readonly SquashfsCompression[];

/**
 * `--config`, the settings flags ({@link BuildFlagOptions} in `settings.ts` reads them), the d-i
 * source and `--fake`. Each description names the default that applies when the flag is absent
 * (flags > MEPH_* environment > config file > built-in, see resolveBuildSettings).
 */
export const BUILD_SETTINGS_OPTIONS = {
  config: { type: 'string', describe: 'Build matrix YAML (default: $MEPH_CONFIG, $MEPH2_CONFIG_YAML, conf/meph-v3.yaml)' },
  'image-format': { choices: IMAGE_FORMATS, describe: 'Source image format (default: $MEPH_IMAGE_FORMAT, else auto: detected from content)' },
  proposed: { type: 'boolean', describe: 'Build with -proposed enabled (can only switch it on; default: $MEPH_PROPOSED, config enable_proposed)' },
  'enable-di': { type: 'boolean', describe: 'Add d-i kernels/initrds even if the config has enable_di: false' },
  'disable-di': { type: 'boolean', describe: 'Do not add d-i kernels/initrds (overrides config enable_di)' },
  'squashfs-compression': { choices: SQUASHFS_COMPRESSIONS, describe: 'mksquashfs compression (default: $MEPH_SQUASHFS_COMPRESSION, else xz, as MAAS expects)' },
  'squashfs-block-size': { type: 'string', describe: "mksquashfs block size, 4K … 1M (default: $MEPH_SQUASHFS_BLOCK_SIZE, else mksquashfs's 128K)" },
  mirror: { type: 'string', describe: "apt mirror for the image (default: $MEPH_MIRROR, config mirror; for Debian the host's configured mirror)" },
  'di-archive': { type: 'string', describe: "Archive root for d-i files (default: archive/ports.ubuntu.com; Debian: the image's apt mirror)" },
  'di-keyring': { type: 'string', describe: "Keyring verifying the d-i archive (default: /usr/share/keyrings/<distro>-archive-keyring.gpg); repeatable" },
  fake: { type: 'boolean', describe: 'Use the fake converter: small placeholder artifacts in seconds, for tests (same as MAAS_CLOUDIMG2EPH2=fake)' },
} as const;
