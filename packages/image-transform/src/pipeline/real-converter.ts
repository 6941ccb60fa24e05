import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ConvertRequest, ConvertResult, Converter } from '../converter.js';
import type { ConverterEvent } from '../events.js';
import { CommandFailedError, KernelPackageNotFoundError } from '../errors.js';
import { acquireSource } from './acquire.js';
import { cleanupStale, createRunDir, releaseRunDir } from './cleanup.js';
import { customiseTree } from './customise.js';
import { detectSourceType, type SourceType } from './detect.js';
import { buildKernel, placeFile } from './kernels.js';
import { LoopRegistry } from './loop.js';
import { makeRootImageGz, makeRootTgz } from './rootimage.js';
import { makeSquashfs } from './squashfs.js';
import { unpackSource } from './unpack.js';

/**
 * The real `maas-cloudimg2eph2`: acquire → detect → unpack → customise (chroot) → kernels
 * (bounded parallel overlays) alongside the squashfs → optional root-image.gz / root-tgz.
 * The squashfs needs only the customised tree, which the kernel overlays never modify, so it
 * is built while the kernels install. Every mount lives in a private namespace of its step;
 * loop devices and the run directory are released in `finally`; when any step fails (or the
 * request is aborted) the other running steps are stopped and every output already written
 * is removed, so a failed conversion leaves no partial output.
 */
export const realConverter: Converter = async (req: ConvertRequest): Promise<ConvertResult> => {
  const emit = (e: ConverterEvent) => req.onEvent?.(e);
  const timings: Record<string, number> = {};
  const started = performance.now();
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    emit({ type: 'step', step: name, state: 'start' });
    const value = await fn();
    timings[name] = round((performance.now() - t0) / 1000);
    emit({ type: 'step', step: name, state: 'done', seconds: timings[name] });
    return value;
  };

  await mkdir(req.workDir, { recursive: true });
  await cleanupStale(req.workDir, emit);
  const runDir = await createRunDir(req.workDir);
  const loops = new LoopRegistry();
  const stop = new AbortController();
  const signal = req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal;
  const written: string[] = [];
  try {
    const acquired = await step('acquire', () => acquireSource(req.source, { cacheDir: req.cacheDir ?? path.join(req.workDir, 'cache'), sha256: req.sourceSha256, signal, onEvent: emit }));
    const type = await sourceType(acquired.file, req.imageFormat);
    emit({ type: 'log', step: 'detect', message: `source ${acquired.file}: ${type.format}${type.compression !== 'none' ? ` (${type.compression})` : ''}${type.container ? ` ${type.container}` : ''}, by ${type.detectedBy}` });
    const tree = path.join(runDir, 'tree');
    await step('unpack', () => unpackSource(acquired.file, type, tree, { scratch: runDir, loops, signal, onEvent: emit }));

    const manifestTmp = path.join(runDir, 'manifest');
    await step('customise', () =>
      customiseTree(tree, {
        release: req.release,
        mirror: req.mirror,
        proposed: req.proposed,
        proposedPackages: req.proposedPackages,
        addRepos: req.addRepos,
        addPackages: req.addPackages,
        prePurgePackages: req.prePurgePackages,
        requirePackages: req.kernels.map((k) => k.package),
        manifestPath: manifestTmp,
        signal,
        onEvent: emit,
      }).catch((e: unknown) => {
        const missing = e instanceof CommandFailedError ? /MEPH-MISSING-PACKAGE (\S+)/.exec(e.stderrTail)?.[1] : undefined;
        const kernel = req.kernels.find((k) => k.package === missing);
        throw kernel ? new KernelPackageNotFoundError(kernel.package, kernel.flavor, { cause: e }) : e;
      }),
    );
    await placeFile(manifestTmp, req.manifestPath);
    written.push(req.manifestPath);

    const limit = pLimit(Math.max(1, req.kernelConcurrency ?? 2));
    const kernels = step('kernels', () =>
      Promise.all(
        req.kernels.map((k, i) =>
          limit(async () => {
            const r = await buildKernel(k, { tree, scratch: path.join(runDir, `kernel-${i}-${k.flavor.replace(/[^\w.-]/g, '_')}`), signal, onEvent: emit });
            written.push(...r.files);
            timings[`kernel:${k.flavor}`] = round(r.seconds);
            return r;
          }),
        ),
      ),
    );
    const squashfs = req.squashfs
      ? step('squashfs', async () => {
          await makeSquashfs(tree, req.squashfs!.path, { compression: req.squashfs!.compression, blockSize: req.squashfs!.blockSize, signal, onEvent: emit });
          written.push(req.squashfs!.path);
        })
      : Promise.resolve();
    await firstFailureStopsAll([kernels, squashfs], stop);

    if (req.rootImageGzPath) {
      await step('root-image.gz', () => makeRootImageGz(tree, req.rootImageGzPath!, runDir, signal));
      written.push(req.rootImageGzPath);
    }
    if (req.rootTgzPath) {
      await step('root-tgz', () => makeRootTgz(tree, req.rootTgzPath!, signal));
      written.push(req.rootTgzPath);
    }
    timings.total = round((performance.now() - started) / 1000);
    return { files: [...written], timings };
  } catch (e) {
    stop.abort(e);
    await Promise.all(written.map((f) => rm(f, { force: true })));
    throw e;
  } finally {
    await releaseRunDir(runDir, loops);
  }
};

/** Waits for all; on the first rejection aborts the rest, waits for them to stop, rethrows it. */
async function firstFailureStopsAll(tasks: Promise<unknown>[], stop: AbortController): Promise<void> {
  let first: { error: unknown } | undefined;
  await Promise.all(
    tasks.map((t) =>
      t.catch((e: unknown) => {
        if (!first) {
          first = { error: e };
          stop.abort(e);
        }
      }),
    ),
  );
  if (first) throw first.error;
}

async function sourceType(file: string, forced: ConvertRequest['imageFormat']): Promise<SourceType> {
  const detected = await detectSourceType(file);
  if (forced === 'auto' || forced === detected.format) return detected;
  return { ...detected, format: forced, detectedBy: 'forced' };
}

function round(s: number): number {
  return Math.round(s * 100) / 100;
}
