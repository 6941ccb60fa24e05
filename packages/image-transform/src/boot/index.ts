export { bootTest, ROOT_CHECK, type BootTestOptions, type BootTestResult, type BootStage } from './boot-test.js';
export { pxeBootTest, maasCommandLine, PXE_STAGES, MODPROBE_CANDIDATES, type PxeBootOptions, type PxeBootResult, type PxeFirmware, type PxeStage } from './pxe-boot.js';
export { kernelProducts, rackImagePath, bootloaderArchives, resolveBootArtifacts, pxeBootStream, type BootArtifacts, type PxeStreamBoot, type PxeStreamOptions } from './stream-targets.js';
export { BOOT_TEST_DEFAULTS, PXE_BOOT_DEFAULTS, PXE_BOOT_HELP } from './options.js';
