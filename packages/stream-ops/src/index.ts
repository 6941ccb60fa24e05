/**
 * Stream-editing operations of meph2-util (insert, promote, clean-md, merge, remove-version,
 * copy-version, diff, patch). Each is a pure planner over documents (`plan*`, `diffStreams`)
 * plus an I/O wrapper that locks the target, plans against it and executes the plan data
 * first, products next, index last, each file atomically.
 */
export type { OpsEvent, PlanEvent, OpsEventSink, FileCopy, ProductsChange, StreamPlan } from './plan.js';
export { copyProducts, editableCopy } from './tree.js';
export { executePlan, type ExecuteOptions, type ExecuteResult } from './execute.js';
export { runOnTarget, type OpIoOptions, type OpResult } from './run.js';
export { loadTargetStream, loadSourceStream, type ProductsFile, type ReadOptions } from './streams.js';
export { streamLabel, unlabelStreamName, labelStreamName, unlabelProductId, relabelProductId } from './labels.js';
export { planInsert, insert, promote, promoteTransform, promoteTransformFor, sourceStreamLabel, DEFAULT_PROMOTE_STREAM_LABEL, PROMOTE_LABELS, type InsertOptions, type InsertPlanOptions, type InsertTransform, type PromoteOptions, type PromoteLabel } from './insert.js';
export { planCleanMd, cleanMd, type CleanMdOptions } from './clean-md.js';
export { planRemoveVersion, planCopyVersion, removeVersion, copyVersion, type VersionOpOptions } from './versions.js';
export { planMerge, merge, type MergeOptions } from './merge.js';
export { StreamOpsError, isStreamOpsError, StreamOpError, PatchFormatError, VersionConflictError } from './errors.js';
export { diffStreams, type DiffOptions } from './diff.js';
export { parsePatch, formatPatch, type PatchDocument, type ProductPatch, type StreamPatch, type VersionPatch, type PatchHeader } from './patch-format.js';
export { planPatch, applyPatch, type PatchOptions } from './patch.js';
export { planReleaseNotification, importReleaseNotification, parseReleaseNotificationConfig, nextDailyVersion, type ReleaseNotificationConfig } from './notification.js';
