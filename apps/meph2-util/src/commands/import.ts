import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { defineCommand, packageConfDir, UsageError } from '@meph/cli-kit';
import { location, runStreamEdit, withStreamEditOptions } from '../options.js';

/** meph2-util's conf/ (the repository's, or the copy an installed package carries); configs are looked up there first, as the original does. */
const CONF_DIR = packageConfDir(import.meta.url);

const UNSUPPORTED: Record<string, string> = {
  image_index: 'CentOS image_index imports (they need maas-qcow2targz and a CentOS cloud-image mirror, which meph does not support yet)',
  'packer-maas': 'packer-maas imports (they need packer and the packer-maas templates, which meph does not support yet)',
};

export const importCommand = defineCommand({
  command: 'import <import_cfg> <target>',
  describe: 'import release notifications or bootloaders into a stream (meph2-import); CentOS and packer-maas imports are not supported yet',
  examples: [
    ['meph2-util import release-notifications.yaml candidate.d', 'publish the MAAS release notification from the config, then sign'],
    ['meph2-util import --no-sign bootloaders-debian.yaml ./out', 'pxelinux (pxe/i386) and shim + signed GRUB (uefi/amd64) products from the configured Debian mirror'],
  ],
  epilog: [
    'IMPORT_CFG is looked up in the repository conf/ first, then as a path. Supported:',
    '* `release-notification:` (product_id, content_id, release-notification: {version, maas_version: "X.Y.Z", message}); a new YYYYMMDD.N',
    '  version is added unless the newest one already carries this notification (the original added a duplicate every run [BUG? fixed]).',
    '* `bootloaders:` (conf/bootloaders-debian.yaml, or the original\'s bootloaders.yaml): for each entry the newest version of its packages',
    '  across <release>-updates, <release>-security and <release> (+ -proposed/-proposed-updates with --proposed) in main (+ universe with',
    '  allow_universe), read through dists/<suite>/InRelease verified with the archive keyring (--keyring FILE, repeatable; default',
    '  debian-archive-keyring and ubuntu-archive-keyring where installed) and the Packages.xz sha256 it lists; .debs are sha256-checked,',
    '  the configured files packed per source package into bootloaders/<platform>/<arch>/<YYYYMMDD.N>/<src>.tar.xz (item archive.tar.xz',
    '  with src_package, src_version, src_release). Skipped when the newest version was built from the same source versions.',
    '  An entry without archive: uses this machine\'s configured Debian mirror. meph differs: the signed GRUB source grub-efi-<arch>-signed',
    '  (Debian) is published under MAAS\'s item key grub2-signed; grub_format entries (grub-mkimage, ppc64el) fail with one line.',
    'Not supported (fail with one line): image_index: (CentOS) and packer-maas: configs (the original imported them).',
    'TARGET may be .../streams/v1/index.json. All differences from the original: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withStreamEditOptions(
        y
          .positional('import_cfg', { type: 'string', demandOption: true, describe: 'Import config (name in conf/ or a path)' })
          .positional('target', { type: 'string', demandOption: true, describe: 'Stream directory to update' })
          .option('keyring', { type: 'string', requiresArg: true, describe: 'Bootloaders: archive keyring for InRelease (repeatable; default the system archive keyrings)' })
          .option('mirror', { type: 'string', requiresArg: true, describe: 'Bootloaders: archive URL for entries without archive: (default: this machine\'s Debian mirror)' })
          .option('proposed', { type: 'boolean', default: false, describe: 'Bootloaders: also search <release>-proposed / -proposed-updates' })
          .option('max', { type: 'number', default: 2, describe: 'image_index only (not supported yet)' })
          .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'packer-maas only (not supported yet)' }),
    ),
  async run(args, ctx) {
    const inConf = path.join(CONF_DIR, args.import_cfg);
    const cfgPath = existsSync(inConf) ? inConf : location(ctx, args.import_cfg);
    if (!existsSync(cfgPath)) throw new UsageError(`unable to find config file ${args.import_cfg} (looked in ${CONF_DIR} and ${cfgPath})`);
    const cfg = parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown> | null;
    const kind = Object.keys(UNSUPPORTED).find((k) => cfg && k in cfg);
    if (kind) throw new UsageError(`${cfgPath}: ${UNSUPPORTED[kind]}; only release-notification and bootloaders imports are supported`);
    if (cfg && 'bootloaders' in cfg) {
      const { parseBootloadersConfig, importBootloaders } = await import('@meph/image-transform');
      const parsed = parseBootloadersConfig(cfg, cfgPath);
      // One file per --keyring (not `array: true`, which would swallow IMPORT_CFG TARGET after it); repeating it collects them.
      const keyrings = [args.keyring ?? []].flat().map((k) => location(ctx, String(k)));
      const options = { proposed: args.proposed, ...(keyrings.length ? { keyrings } : {}), ...(args.mirror ? { mirror: args.mirror } : {}), onProgress: (m: string) => ctx.reporter.info(m) };
      return runStreamEdit('import', args, ctx, args.target, (t, io) => importBootloaders(parsed, t.root, { ...io, ...options }));
    }
    if (!cfg || !('release-notification' in cfg)) throw new UsageError(`${cfgPath}: unsupported import config: expected a release-notification:, bootloaders:, image_index: or packer-maas: section`);
    const { importReleaseNotification, parseReleaseNotificationConfig } = await import('@meph/stream-ops');
    const notification = parseReleaseNotificationConfig(cfg, cfgPath);
    return runStreamEdit('import', args, ctx, args.target, (t, io) => importReleaseNotification(notification, t.root, { ...io, source: cfgPath }));
  },
});
