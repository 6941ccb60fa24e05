import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { checkSigningArgs, defineCommand, signIfWanted, UsageError, withSigningOptions } from '@meph/cli-kit';
import { location, writeTarget, opIo, summarize, withWriteOptions } from '../options.js';

/** The repository's conf/ directory (configs are looked up there first, as the original does). */
const CONF_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../conf');

const UNSUPPORTED: Record<string, string> = {
  bootloaders: 'bootloader imports (they download and unpack .deb packages from the Ubuntu archive, which meph does not support yet)',
  image_index: 'CentOS image_index imports (they need maas-qcow2targz and a CentOS cloud-image mirror, which meph does not support yet)',
  'packer-maas': 'packer-maas imports (they need packer and the packer-maas templates, which meph does not support yet)',
};

export const importCommand = defineCommand({
  command: 'import <import_cfg> <target>',
  describe: 'import a release notification into a stream (meph2-import); other import kinds are not supported yet',
  examples: [['meph2-util import release-notifications.yaml candidate.d', 'publish the MAAS release notification from the config, then sign']],
  epilog: [
    'IMPORT_CFG is looked up in the repository conf/ first, then as a path. Supported: configs with a `release-notification:` section',
    '(product_id, content_id, release-notification: {version, maas_version: "X.Y.Z", message}); a new YYYYMMDD.N version is added',
    'unless the newest one already carries this notification (the original added a duplicate every run [BUG? fixed]).',
    'Not supported (fail with one line): bootloaders:, image_index: (CentOS) and packer-maas: configs (the original imported them).',
    'TARGET may be .../streams/v1/index.json. All differences from the original: docs/compat.md.',
  ].join('\n'),
  builder: (y) =>
    withSigningOptions(
      withWriteOptions(
        y
          .positional('import_cfg', { type: 'string', demandOption: true, describe: 'Import config (name in conf/ or a path)' })
          .positional('target', { type: 'string', demandOption: true, describe: 'Stream directory to update' })
          .option('keyring', { type: 'string', hidden: true, describe: 'Accepted for compatibility; unused' })
          .option('proposed', { type: 'boolean', default: false, describe: 'Bootloaders only (not supported yet)' })
          .option('max', { type: 'number', default: 2, describe: 'image_index only (not supported yet)' })
          .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'packer-maas only (not supported yet)' }),
      ),
    ),
  async run(args, ctx) {
    const inConf = path.join(CONF_DIR, args.import_cfg);
    const cfgPath = existsSync(inConf) ? inConf : location(ctx, args.import_cfg);
    if (!existsSync(cfgPath)) throw new UsageError(`unable to find config file ${args.import_cfg} (looked in ${CONF_DIR} and ${cfgPath})`);
    const cfg = parse(await readFile(cfgPath, 'utf8')) as Record<string, unknown> | null;
    const kind = Object.keys(UNSUPPORTED).find((k) => cfg && k in cfg);
    if (kind) throw new UsageError(`${cfgPath}: ${UNSUPPORTED[kind]}; only release-notification imports are supported`);
    if (!cfg || !('release-notification' in cfg)) throw new UsageError(`${cfgPath}: unsupported import config: expected a release-notification:, bootloaders:, image_index: or packer-maas: section`);
    if (!args.dryRun) await checkSigningArgs(args, ctx);
    const { importReleaseNotification } = await import('@meph/simplestreams/ops');
    const { root: target } = await writeTarget(ctx, args.target, 'import');
    const result = await importReleaseNotification(cfg as never, target, { ...opIo(args, ctx), source: cfgPath });
    ctx.reporter.info(summarize('import', result, args.dryRun));
    if (!args.dryRun) await signIfWanted(args, target, ctx);
  },
});
