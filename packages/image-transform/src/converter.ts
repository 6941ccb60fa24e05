import type { SignaturePolicy } from '@meph/simplestreams';

import type { ConverterEvent } from './events.js';

/** One kernel to install and extract, derived from a kernel line of the config. */
export interface KernelRequest {
  /** Kernel package to install, e.g. linux-generic or linux-image-amd64. */
  package: string;
  /** Flavour, e.g. generic, lowlatency, cloud. */
  flavor: string;
  /** Absolute output paths the converter must produce. */
  kernelPath: string;
  initrdPath: string;
  /** Only when the config asks for a dtb (khdata.dtb): the dtb file name in the package. */
  dtb?: { name: string; path: string };
  /** khdata `kihelper`: program run on the extracted kernel and initrd (command converters get it in --krd-pack). */
  kihelper?: string;
}

/**
 * What meph2-build asks a converter for: the equivalent of the original
 * `maas-cloudimg2eph2` call. All output paths are absolute and chosen by the caller.
 */
export interface ConvertRequest {
  arch: string;
  release: string;
  version: string;
  /** Local file path or http(s) URL of the source image. */
  source: string;
  /** Expected sha256 (hex) of the source; checked after download (or on the local file). */
  sourceSha256?: string;
  /** `auto` detects from content. */
  imageFormat: 'auto' | 'img-tar' | 'root-image' | 'root-image-gz' | 'root-tar' | 'squashfs-image';
  kernels: KernelRequest[];
  squashfs?: { path: string; compression: 'xz' | 'zstd' | 'gzip'; blockSize?: string };
  /** dpkg-query manifest of the customised image. */
  manifestPath: string;
  rootImageGzPath?: string;
  rootTgzPath?: string;
  proposed: boolean;
  /** Space-separated lists as in the original M2E_ADD_REPOS / M2E_ADD_PACKAGES. */
  addRepos: string[];
  addPackages: string[];
  prePurgePackages: string[];
  proposedPackages: string[];
  /** `builtin_kernel` resolved for the arch: the kernel kept in the image (`none` = purge all). */
  builtinKernel?: string;
  /** `-v` count of the caller (a command converter gets as many `-v`). */
  verbosity?: number;
  /** Apt mirror for Debian-family sources (defaults to the build host's configured mirror). */
  mirror?: string;
  /** Scratch space; the converter removes what it creates there. */
  workDir: string;
  /** Download cache for http(s) sources. */
  cacheDir?: string;
  /** Max kernels built at once. */
  kernelConcurrency?: number;
  signal?: AbortSignal;
  onEvent?: (event: ConverterEvent) => void;
  /** For sources fetched from a signed stream. */
  signaturePolicy?: SignaturePolicy;
}

export interface ConvertResult {
  /** Every file written, absolute paths. */
  files: string[];
  /** Seconds spent per step, for progress reports and benchmarks. */
  timings: Record<string, number>;
}

/** The real pipeline and the fake one both implement this. */
export type Converter = (request: ConvertRequest) => Promise<ConvertResult>;
