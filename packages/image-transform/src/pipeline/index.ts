export { realConverter } from './real-converter.js';
export { acquireSource, isUrl, type AcquireOptions, type Acquired } from './acquire.js';
export { detectSourceType, type SourceType, type ImageFormat } from './detect.js';
export { unpackSource, unpackRootTar, copyOutOfDiskImage, MemberChecker } from './unpack.js';
export { customiseTree, INITRAMFS_MODULES, type CustomiseOptions } from './customise.js';
export { buildKernel, type KernelBuildResult } from './kernels.js';
export { makeSquashfs, type SquashfsOptions } from './squashfs.js';
export { makeRootImageGz, makeRootTgz } from './rootimage.js';
export { cleanupStale, mountsUnder } from './cleanup.js';
