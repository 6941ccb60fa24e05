import type { BuildResult, PipelineEvent } from '@meph/image-transform';

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
export function eventVerbosity(event: PipelineEvent): number {
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
      return 0;
    case 'item-built':
    case 'data-written':
    case 'log':
      return 1;
    default:
      return event['level'] === 'debug' ? 2 : 1;
  }
}

/** One human line for a build event. */
export function describeEvent(e: PipelineEvent): string {
  const s = (k: string): string => {
    const v = e[k];
    switch (typeof v) {
      case 'string':
        return v;
      case 'number':
      case 'boolean':
      case 'bigint':
        return String(v);
      case 'object':
        return v === null ? '' : JSON.stringify(v);
      default:
        return '';
    }
  };
  switch (e.type) {
    case 'plan':
      return `building ${s('release')}/${s('arch')} ${s('version')}: ${s('products')} products, ${s('files')} files`;
    case 'converter-start':
      return `converting ${s('source')} with the ${s('converter')} converter (${s('kernels')} kernels)`;
    case 'converter-done':
      return `converter finished in ${Number(e['seconds']).toFixed(1)} s`;
    case 'converter-skipped':
      return `all ${s('files')} output files exist; not re-generating`;
    case 'products-written':
      return `wrote ${s('path')} (${s('products')} products)`;
    case 'index-written':
      return `wrote ${s('path')}`;
    case 'flat-json-written':
      return `wrote ${s('path')} (${s('items')} items)`;
    case 'stale-removed':
      return `removed leftovers of an interrupted build: ${(e['paths'] as string[]).join(', ')}`;
    case 'item-built':
      return `  ${s('productId')} ${s('version')} ${s('item')}: ${s('path')} ${s('size')} bytes sha256 ${s('sha256')}`;
    case 'data-written':
      return `moved ${s('files')} files into place`;
    case 'di-items-written':
      return `d-i files in place (${s('files')} downloaded or verified)`;
    case 'step': {
      const what = e['package'] ? `${s('step')} (${s('package')})` : s('step');
      if (e['state'] === 'start') return `${what}: started`;
      if (e['state'] === 'done') return `${what}: done${e['seconds'] !== undefined ? ` in ${Number(e['seconds']).toFixed(1)} s` : ''}${e['verflav'] ? ` (kernel ${s('verflav')})` : ''}`;
      return `${what}: ${s('detail')}`;
    }
    case 'log':
      return `${s('step')}: ${s('message')}`;
    case 'cleanup':
      return `removed ${s('dir')} (${s('reason')})`;
    default: {
      if (typeof e['message'] === 'string') return e['message'];
      const { type, ...rest } = e;
      const fields = Object.entries(rest).filter(([, v]) => v !== undefined && typeof v !== 'object').map(([k, v]) => `${k}=${String(v)}`);
      return [type, ...fields].join(' ');
    }
  }
}
