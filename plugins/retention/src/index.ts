export { ArchivalJournal, JOURNAL_FILE, type JournalEntry, type JournalPhase } from './archivalJournal.js';
export { aggregatesOf, archiveOf, resolveArchivalTiers, type ArchivableHotTier, type ArchivalTiers } from './archivalTiers.js';
export { ArchiveVerificationError, RetentionBusyError, RetentionJobError, RetentionSetupError } from './errors.js';
export { DEFAULT_SCHEDULE, RetentionOptionsSchema, type ResolvedRetentionOptions, type RetentionOptions } from './retentionOptions.js';
export {
  CONFIGURABLE_TABLES,
  PLAN_RETENTION_POLICIES,
  effectivePolicies,
  type ConfigurableTable,
  type EffectivePolicies,
  type RetentionPolicyOverride,
  type RetentionPolicyOverrides,
} from './retentionPolicies.js';
export { RETENTION_STATE_DIR, retentionPlugin } from './retentionPlugin.js';
export { writeRetentionReport, type PartitionMove, type RetentionReport, type RetentionStepName, type RetentionStepReport } from './retentionReport.js';
export { partitionIdFor, runRetention, type RetentionRunSettings } from './retentionRun.js';
export { LOCK_FILE, StateLock } from './stateLock.js';
export { retentionPlugin as default } from './retentionPlugin.js';
