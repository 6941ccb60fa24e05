/**
 * Benchmark: time to userspace of one product under QEMU TCG in the three boot modes, in one
 * run on the same artifacts, one VM at a time:
 *
 *   floor = virtio  (kernel + initrd given to QEMU directly, squashfs as a read-only virtio disk)
 *   pxe-bios        (iPXE → lpxelinux over TFTP → kernel/initrd over HTTP → squashfs over HTTP, overlay)
 *   pxe-uefi        (OVMF → iPXE → shim → GRUB over TFTP → kernel/initrd over HTTP → squashfs over HTTP)
 *
 * Prints the seconds to userspace (systemd's first console line) of each, the PXE stage split
 * and each mode's ratio to the floor. The stream must hold the product and the bootloaders
 * (tools/main-job.sh leaves such a stream in /var/tmp/meph-main-job/stream).
 *
 *   npx tsx --conditions=@meph/source tools/bench/boot-modes.ts STREAM [PRODUCT] [--runs 1]
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bootloaderArchives, bootTest, pxeBootTest, rackImagePath, resolveBootArtifacts, type PxeFirmware } from '@meph/image-transform';
import { loadStream } from '@meph/simplestreams';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '1' } } });
const [streamDir, productArg] = positionals;
if (!streamDir) {
  console.error('usage: boot-modes.ts STREAM [PRODUCT] [--runs N]');
  process.exit(2);
}
const stream = await loadStream(path.resolve(streamDir), { policy: 'off' });
const productId =
  productArg ??
  stream.products.flatMap((f) => Object.entries(f.doc.products)).find(([, p]) => p['kflavor'] === 'generic' || p['subarch'] === 'generic')?.[0] ??
  stream.products.flatMap((f) => Object.keys(f.doc.products))[0]!;
const a = resolveBootArtifacts(stream, productId);
const runs = Number(values.runs);
const f1 = (n: number) => n.toFixed(1);
console.error(`bench: ${productId} ${a.version}; ${os.cpus().length} CPUs, load ${os.loadavg().map(f1).join(' ')}; ${runs} run(s) per mode`);

const results: Record<string, number[]> = { virtio: [], 'pxe-bios': [], 'pxe-uefi': [] };
const splits: Record<string, string> = {};
for (let i = 0; i < runs; i++) {
  const v = await bootTest({ kernel: a.kernel, initrd: a.initrd, squashfs: a.squashfs, timeoutMs: 600_000 });
  results['virtio']!.push(v.stages.userspace ?? v.seconds);
  for (const fw of ['bios', 'uefi'] as PxeFirmware[]) {
    const bl = bootloaderArchives(stream, fw);
    if (!bl) throw new Error(`no ${fw} bootloader product in ${streamDir}: meph2-util import bootloaders-debian.yaml ${streamDir}`);
    const r = await pxeBootTest({
      firmware: fw, imagePath: rackImagePath(stream, productId), bootloaderArchives: bl.files, timeoutMs: 900_000,
      files: { 'boot-kernel': a.kernel, 'boot-initrd': a.initrd, squashfs: a.squashfs },
    });
    results[`pxe-${fw}`]!.push(r.stageEnds.userspace ?? r.seconds);
    splits[`pxe-${fw}`] = Object.entries(r.stageSeconds).map(([k, s]) => `${k} ${s}s`).join(', ');
  }
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const floor = median(results['virtio']!);
for (const [mode, xs] of Object.entries(results)) {
  const m = median(xs);
  console.log(`${mode.padEnd(9)} ${f1(m).padStart(6)} s to userspace  ${f1(m / floor)}× floor${splits[mode] ? `  (${splits[mode]})` : ''}`);
}
console.error(`bench: load at end ${os.loadavg().map(f1).join(' ')}`);
