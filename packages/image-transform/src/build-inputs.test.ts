import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@meph/test-support';
import { loadBuildInputs } from './build-inputs.js';

const defaultConfig = path.join(REPO_ROOT, 'conf/meph-v3.yaml');
const debianConfig = path.join(REPO_ROOT, 'conf/debian-bookworm.yaml');

describe('loadBuildInputs (what meph2-build and meph2-cloudimg-sync read before planning)', () => {
  it('--config wins over MEPH_CONFIG, which wins over MEPH2_CONFIG_YAML and the default; paths are relative to cwd', async () => {
    const env = { MEPH_CONFIG: debianConfig, MEPH2_CONFIG_YAML: '/nonexistent.yaml' };
    expect((await loadBuildInputs({ config: 'conf/meph-v3.yaml', fake: true }, { env, cwd: REPO_ROOT, defaultConfig: '/nonexistent.yaml' })).configPath).toBe(defaultConfig);
    const fromEnv = await loadBuildInputs({ fake: true }, { env, cwd: REPO_ROOT, defaultConfig: '/nonexistent.yaml' });
    expect(fromEnv.configPath).toBe(debianConfig);
    expect(fromEnv.config.distro).toBe('debian');
    expect((await loadBuildInputs({ fake: true }, { env: {}, cwd: '/', defaultConfig })).configPath).toBe(defaultConfig);
  });

  it('picks the converter (--fake, MAAS_CLOUDIMG2EPH2, else the real pipeline) and resolves the d-i flags', async () => {
    const fake = await loadBuildInputs({ fake: true, diArchive: 'http://10.0.0.5/ubuntu', diKeyring: ['k1.gpg', '/abs/k2.gpg'] }, { env: {}, cwd: '/work', defaultConfig });
    expect(fake.converter).toMatchObject({ name: 'fake', reason: '--fake' });
    expect(fake.di).toEqual({ archive: 'http://10.0.0.5/ubuntu', keyrings: ['/work/k1.gpg', '/abs/k2.gpg'] });
    const byEnv = await loadBuildInputs({}, { env: { MAAS_CLOUDIMG2EPH2: 'fake-maas-cloudimg2eph2' }, cwd: '/', defaultConfig });
    expect(byEnv.converter).toMatchObject({ name: 'fake', reason: 'MAAS_CLOUDIMG2EPH2=fake-maas-cloudimg2eph2' });
    const real = await loadBuildInputs({ diKeyring: 'one.gpg' }, { env: {}, cwd: '/srv', defaultConfig });
    expect(real.converter).toMatchObject({ name: 'real', reason: 'default' });
    expect(real.di).toEqual({ keyrings: ['/srv/one.gpg'] });
  });
});
