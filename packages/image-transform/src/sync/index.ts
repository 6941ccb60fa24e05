export { runSync, buildableMatrix, defaultSyncArches, syncSourceFilters, type SyncOptions, type SyncResult, type SyncFailure } from './sync.js';
export { planSync, parseRebuild, builtVersions, currentTargetProducts, SOURCE_CONTENT_IDS, SOURCE_FTYPES, type BuildJob, type Plan, type PlanInput, type SkippedVersion } from './plan.js';
export { resolveSyncRequest, type SyncRequest, type SyncRequestInput } from './request.js';
