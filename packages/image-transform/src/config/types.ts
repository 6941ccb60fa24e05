/**
 * The typed build matrix (`conf/meph-v3.yaml` and the original's format). Field names are
 * camelCase; the YAML keys they come from are given in the comments.
 */

/** Optional 7th field of a kernel line (`khdata`). */
export interface KernelHelperData {
  /** Appended to boot/d-i file names, e.g. `.xgene`. */
  suffix?: string;
  /** Kernel helper program run on the extracted kernel and initrd. */
  kihelper?: string;
  /** d-i image-format key (default `default`). */
  diFormat?: string;
  /** dtb file to publish as `boot-dtb`. */
  dtb?: string;
}

/** One kernel tuple: `[krel, arch, subarch, flavor, package, [subarches], {khdata}]`. */
export interface KernelLine {
  krel: string;
  arch: string;
  /** Raw primary subarch, e.g. `hwe-24.04-edge` (the flavour is not in it). */
  subarch: string;
  flavor: string;
  package: string;
  subarches: string[];
  khdata: KernelHelperData;
  /** 1-based line of the tuple in the config file. */
  line: number;
}

/** `builtin_kernel`: a package, none, or a per-arch map with `default`. */
export type BuiltinKernel = string | null | { readonly [arch: string]: string };

export interface ReleaseConfig {
  /** Release version, always a string (`"24.04"`, `"12"`). */
  version: string;
  /** Codename (`noble`, `bookworm`). */
  release: string;
  builtinKernel: BuiltinKernel;
  kernels: KernelLine[];
  /** Overrides of what distro-info says (meph extension keys). */
  releaseTitle?: string;
  releaseCodename?: string;
  supportEol?: string;
  supportEsmEol?: string;
  line: number;
}

/** Which archive the image comes from: decides mirror defaults and release metadata. */
export type Distro = 'ubuntu' | 'debian';

export interface BuildConfig {
  /** Absolute path of the file this was loaded from (for messages). */
  file: string;
  releases: ReleaseConfig[];
  /** `squashfs`: publish a squashfs item. */
  squashfs: boolean;
  /** `root_image`: publish root-image.gz (always on for trusty). */
  rootImage: boolean;
  /** `enable_di`: publish d-i kernels/initrds. */
  enableDi: boolean;
  /** `enable_proposed`. */
  enableProposed: boolean;
  /** `proposed_packages` (CSV string or list in YAML). */
  proposedPackages: string[];
  /** `pre_purge_packages` (CSV string or list in YAML). */
  prePurgePackages: string[];
  /** `default_target`: existing products file cloudimg-sync compares against. */
  defaultTarget?: string;
  /** `content_id` of the products file written. */
  contentId: string;
  /** `product_id_pre`: product id prefix. */
  productIdPre: string;
  /** `kname`: %-format of the kernel directory in boot paths (default `%(krel)s`). */
  kname: string;
  /** meph extension `distro` (default `ubuntu`). */
  distro: Distro;
  /** meph extension `os`: the product `os` field (default `ubuntu`; `custom` for debian). */
  os: string;
  /** meph extension `label` (default `candidate`). */
  label: string;
  /** meph extension `mirror`: apt mirror for the image (debian: default is the host's). */
  mirror?: string;
}
