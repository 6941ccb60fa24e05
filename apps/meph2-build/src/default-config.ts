import { fileURLToPath } from 'node:url';

/** The project's own build matrix, used when neither --config nor MEPH_CONFIG/MEPH2_CONFIG_YAML is set. */
export const DEFAULT_CONFIG = fileURLToPath(new URL('../../../conf/meph-v3.yaml', import.meta.url));
