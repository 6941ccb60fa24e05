/** MAAS acceptance checks for simplestreams boot-image streams (`@meph/maas-rules`). */
export { checkMaasStream, checkMaasDocuments, isBlocking } from './check.js';
export { MAAS_RULES, maasRule, type MaasRule, type MaasRuleId, type MaasEffect } from './rules.js';
export { MAAS_COMMISSIONING_RELEASE } from './check-stream.js';
export { MaasRulesError, isMaasRulesError, GpgvUnavailableError } from './errors.js';
export type {
  MaasFinding,
  MaasSeverity,
  MaasVersion,
  MaasCheckOptions,
  MaasDocuments,
  MaasProductsFile,
  MaasStreamInput,
  MaasStreamSource,
} from './types.js';
