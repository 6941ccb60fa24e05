import { describe, expect, it } from 'vitest';
import { SourceFormatError } from '../errors.js';
import { maasCommandLine, pxeBootTest } from './pxe-boot.js';

describe('MAAS network boot contract', () => {
  it('renders the ephemeral command line MAAS passes (provisioningserver kernel_opts)', () => {
    expect(maasCommandLine({ rack: '10.0.2.2:5248', imagePath: 'custom/amd64/ga-12/bookworm/candidate', hostname: 'node1', mac: '52:54:00:AB:CD:EF' })).toBe(
      'nomodeset ro root=squash:http://10.0.2.2:5248/images/custom/amd64/ga-12/bookworm/candidate/squashfs ip=::::node1:BOOTIF ip6=off ' +
        "overlayroot=tmpfs overlayroot_cfgdisk=disabled cc:{'datasource_list': ['MAAS']}end_cc " +
        'cloud-config-url=http://10.0.2.2:5248/MAAS/metadata/latest/by-id/meph-boot-test/?op=get_preseed BOOTIF=01-52-54-00-ab-cd-ef',
    );
  });

  it.each(['custom/amd64/../../etc/x', 'custom//ga-12', 'custom/amd64/ga 12/bookworm/candidate'])('refuses the rack path %s before starting anything', async (imagePath) => {
    await expect(pxeBootTest({ firmware: 'bios', imagePath, files: {}, bootloaderArchives: [] })).rejects.toThrow(SourceFormatError);
  });
});
