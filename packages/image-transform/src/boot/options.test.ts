import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PXE_BOOT_DEFAULTS, PXE_BOOT_HELP } from './options.js';
import { maasCommandLine, MODPROBE_CANDIDATES, PXE_STAGES } from './pxe-boot.js';

describe('boot-test options', () => {
  it('the --pxe help shows the kernel command line maasCommandLine renders', () => {
    const shown = /rendered as MAAS renders it \((.*?), plus console=ttyS0/.exec(PXE_BOOT_HELP)?.[1];
    const rendered = maasCommandLine({ rack: '<rack>', imagePath: '…', hostname: '<hostname>', mac: '<mac>' }).replace(/cloud-config-url=\S+/, 'cloud-config-url=…');
    expect(shown).toBe(rendered);
  });

  it('the --pxe help names the stages and the modprobe candidates of the code, and the firmware default is BIOS', () => {
    expect(PXE_BOOT_HELP).toContain(`(${PXE_STAGES.join(', ')})`);
    expect(PXE_BOOT_HELP).toContain(`(${MODPROBE_CANDIDATES.slice(0, -1).join(', ')} or ${MODPROBE_CANDIDATES.at(-1)})`);
    expect(PXE_BOOT_DEFAULTS.firmwares).toEqual(['bios']);
  });

  it('imports nothing at run time (boot-test --help must not load the boot code)', () => {
    const source = readFileSync(path.join(import.meta.dirname, 'options.ts'), 'utf8');
    expect(source).not.toMatch(/^import\s(?!type\s)|^export\s.*\sfrom\s/m);
  });
});
