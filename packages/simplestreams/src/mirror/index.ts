/**
 * sstream-mirror's successor: a parallel, resumable, verified mirror of a simplestreams
 * stream (spec §10.2). `planContent` is the pure planner, `mirrorStream` the I/O.
 */
export { mirrorStream, mirrorDocuments, mirrorHttpClient, checkMirrorOptions, MIRROR_DATA_DIR, REFERENCES_FILE, type MirrorOptions, type MirrorResult, type MirrorEvent, type MirrorContent, type MirrorDocuments } from './mirror.js';
export { planContent, planLines, updateReferences, parseReferences, formatReferences, formatTargetTree, type ContentPlan, type MirrorItemChange, type MirrorPlanOptions, type References } from './plan.js';
