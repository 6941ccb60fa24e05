import type { BuildEvent, BuildResult } from '@meph/image-transform';

/** The `--dry-run` plan as text: every product with its items and paths. */
export function planText(result: BuildResult, outputDir: string, converter: string): string {
  const { plan } = result;
  const lines = [
    `plan: ${plan.release}/${plan.arch} version ${plan.version} (release ${plan.releaseVersion}) into ${outputDir}`,
    `  converter: ${converter} (${result.needsConversion ? 'would run' : 'would be skipped: every output exists'})`,
    `  products file: streams/v1/${plan.contentId}.json (${plan.products.length} products)`,
  ];
  for (const p of plan.products) {
    lines.push(`  product ${p.productId}`);
    lines.push(`    kflavor=${p.fields['kflavor']} subarch=${p.fields['subarch']} krel=${p.fields['krel']} subarches=${p.fields['subarches']}`);
    for (const item of Object.values(p.items).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      lines.push(`    ${item.name.padEnd(14)} ${item.path}${item.kpackage ? `  (kpackage ${item.kpackage})` : ''}`);
    }
  }
  if (result.request) {
    lines.push(`  kernels to build: ${result.request.kernels.map((k) => `${k.package}/${k.flavor}`).join(', ') || 'none'}`);
    if (result.request.mirror) lines.push(`  apt mirror: ${result.request.mirror}`);
    if (result.request.squashfs) lines.push(`  squashfs: ${result.request.squashfs.compression}${result.request.squashfs.blockSize ? `, block size ${result.request.squashfs.blockSize}` : ''}`);
    lines.push(`  proposed: ${result.request.proposed ? 'yes' : 'no'}, image format: ${result.request.imageFormat}`);
  }
  if (result.enableDi) lines.push('  d-i: di-kernel and di-initrd per product, crawled from the installer archive at build time');
  for (const w of plan.warnings) lines.push(`  warning: ${w}`);
  lines.push('dry run: nothing was written');
  return `${lines.join('\n')}\n`;
}

/** Minimum -v count at which an event is logged in human mode (progress and warnings are separate). */
export function eventVerbosity(event: BuildEvent): number {
  switch (event.type) {
    case 'plan':
    case 'converter-start':
    case 'converter-done':
    case 'converter-skipped':
    case 'products-written':
    case 'index-written':
    case 'flat-json-written':
    case 'stale-removed':
    case 'di-items-written':
    case 'step':
    case 'cleanup':
    case 'progress':
    case 'warning':
      return 0;
    case 'item-built':
    case 'data-written':
    case 'log':
    case 'di-suite':
    case 'di-suite-missing':
    case 'di-version':
    case 'di-error':
    case 'di-unverified':
    case 'http-retry':
      return 1;
    default:
      return unknownEvent(event);
  }
}

/** A build event the switch does not handle is a compile error here. */
function unknownEvent(e: never): never {
  throw new Error(`unknown build event ${JSON.stringify(e)}`);
}

function fields(e: object): string {
  const { type, ...rest } = e as { type: string };
  return [type, ...Object.entries(rest).filter(([, v]) => v !== undefined && typeof v !== 'object').map(([k, v]) => `${k}=${String(v)}`)].join(' ');
}

/** One human line for a build event. */
export function describeEvent(e: BuildEvent): string {
  switch (e.type) {
    case 'plan':
      return `building ${e.release}/${e.arch} ${e.version}: ${e.products} products, ${e.files} files`;
    case 'converter-start':
      return `converting ${e.source} with the ${e.converter} converter (${e.kernels} kernels)`;
    case 'converter-done':
      return `converter finished in ${e.seconds.toFixed(1)} s`;
    case 'converter-skipped':
      return `all ${e.files} output files exist; not re-generating`;
    case 'products-written':
      return `wrote ${e.path} (${e.products} products)`;
    case 'index-written':
      return `wrote ${e.path}`;
    case 'flat-json-written':
      return `wrote ${e.path} (${e.items} items)`;
    case 'stale-removed':
      return `removed leftovers of an interrupted build: ${e.paths.join(', ')}`;
    case 'item-built':
      return `  ${e.productId} ${e.version} ${e.item}: ${String(e.path ?? '')} ${String(e.size ?? '')} bytes sha256 ${String(e.sha256 ?? '')}`;
    case 'data-written':
      return `moved ${e.files} files into place`;
    case 'di-items-written':
      return `d-i files in place (${e.files} downloaded or verified)`;
    case 'step': {
      if ('detail' in e) return `${e.step}: ${e.detail}`;
      const what = e.state === 'start' && e.package ? `${e.step} (${e.package})` : e.step;
      if (e.state === 'start') return `${what}: started`;
      return `${what}: done${e.seconds !== undefined ? ` in ${e.seconds.toFixed(1)} s` : ''}${e.verflav ? ` (kernel ${e.verflav})` : ''}`;
    }
    case 'log':
      return `${e.step}: ${e.message}`;
    case 'cleanup':
      return `removed ${'dir' in e ? e.dir : e.device} (${e.reason})`;
    case 'warning':
    case 'di-error':
    case 'di-unverified':
      return e.message;
    case 'progress':
    case 'di-suite':
    case 'di-suite-missing':
    case 'di-version':
    case 'http-retry':
      return fields(e);
    default:
      return unknownEvent(e);
  }
}
