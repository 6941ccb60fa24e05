import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pidAlive } from '@meph/sys';
import { run } from './exec.js';

/**
 * Loop devices are global to the machine (unlike mounts, which live in private namespaces and
 * die with them), so each one a run attaches is recorded the moment losetup returns it, in
 * `${MEPH_RUN_DIR:-/run/meph}/loops/<device>` = `<pid>\n<backing file>`. /run is a tmpfs, so
 * the records vanish exactly when the devices do (reboot). `releaseStaleLoops` detaches the
 * devices of runs whose process is gone (a crash or SIGKILL), and only when the device still
 * has the recorded backing file, so a device someone else attached since is never touched.
 */
export class LoopRegistry {
  readonly active = new Set<string>();
  async add(dev: string, file: string): Promise<void> {
    this.active.add(dev);
    await mkdir(registryDir(), { recursive: true });
    await writeFile(path.join(registryDir(), path.basename(dev)), `${process.pid}\n${path.resolve(file)}\n`);
  }
  async remove(dev: string): Promise<void> {
    this.active.delete(dev);
    await rm(path.join(registryDir(), path.basename(dev)), { force: true });
  }
}

function registryDir(): string {
  return path.join(process.env['MEPH_RUN_DIR'] ?? '/run/meph', 'loops');
}

/** `losetup -f --show` picks and attaches a free device atomically: never guess a free one. */
export async function attachLoop(file: string, opts: { offset?: number; sizeLimit?: number; readOnly?: boolean }, registry: LoopRegistry, signal?: AbortSignal): Promise<string> {
  const args = ['-f', '--show'];
  if (opts.readOnly) args.push('-r');
  if (opts.offset) args.push('-o', String(opts.offset));
  if (opts.sizeLimit) args.push('--sizelimit', String(opts.sizeLimit));
  args.push(file);
  const { stdout } = await run('losetup', args, { signal, what: `losetup ${file}` });
  const dev = stdout.trim();
  await registry.add(dev, file);
  return dev;
}

/** Detaches a loop device, retrying briefly while udev or a lazy unmount still holds it. */
export async function detachLoop(dev: string, registry?: LoopRegistry): Promise<void> {
  for (let i = 0; i < 10; i++) {
    try {
      await run('losetup', ['-d', dev], { what: `losetup -d ${dev}` });
      break;
    } catch {
      if (!(await backingFile(dev))) break;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  await registry?.remove(dev);
}

/** The file behind a loop device (without a " (deleted)" suffix), or undefined when detached. */
export async function backingFile(dev: string): Promise<string | undefined> {
  const text = await readFile(`/sys/block/${path.basename(dev)}/loop/backing_file`, 'utf8').catch(() => undefined);
  return text?.trim().replace(/ \(deleted\)$/, '') || undefined;
}

/** Detaches the recorded loop devices of runs that are no longer alive; returns them. */
export async function releaseStaleLoops(): Promise<string[]> {
  const dir = registryDir();
  const released: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const [pidText, file] = (await readFile(path.join(dir, name), 'utf8').catch(() => '')).split('\n');
    const pid = Number(pidText);
    if (pid && pidAlive(pid)) continue;
    const dev = `/dev/${name}`;
    if (file && (await backingFile(dev)) === file) {
      await detachLoop(dev);
      released.push(dev);
    }
    await rm(path.join(dir, name), { force: true });
  }
  return released;
}
