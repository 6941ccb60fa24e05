import path from 'node:path';
import { packageConfDir } from '@meph/cli-kit';

/** The project's own build matrix, used when neither --config nor MEPH_CONFIG/MEPH2_CONFIG_YAML is set. */
export const DEFAULT_CONFIG = path.join(packageConfDir(import.meta.url), 'meph-v3.yaml');
