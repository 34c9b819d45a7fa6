export {
  ArchiveCorruptError,
  ArchiveDiskFullError,
  ArchiveInputError,
  PartitionConflictError,
  PartitionNotFoundError,
} from './archiveErrors.js';
export type { ComplianceExportManifest, ComplianceExportOptions } from './complianceExport.js';
export { DEFAULT_GZIP_LEVEL, DEFAULT_LOCK_TIMEOUT_MS, JsonArchive, type JsonArchiveOptions } from './jsonArchive.js';
export { JsonArchiveOptionsSchema, jsonArchivePlugin, type JsonArchiveOptionsInput } from './jsonArchivePlugin.js';
export { JsonArchiveTier } from './jsonArchiveTier.js';
export { restoreFromArchive, type ArchiveRestoreOptions, type ArchiveRestoreReport } from './restoreFromArchive.js';
export type { RecoveryReport, WriteStep } from './partitionStore.js';
export type { ArchivedRowCounts, MonthSummary, YearSummary } from './yearlySummary.js';
export { jsonArchivePlugin as default } from './jsonArchivePlugin.js';
