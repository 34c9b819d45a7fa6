export {
  DEFAULT_CONVERSION_DEPTH,
  backfillRollups,
  prepareBatchWriter,
  prepareMetricWriter,
  prepareRollupWriter,
  registerRollupFunctions,
  toMicros,
  type BatchWriteResult,
  type BatchWriter,
  type BatchWriterOptions,
  type FreshEvent,
  type MetricWriter,
} from './batchWriter.js';
export {
  HISTOGRAM_BIN_COUNT,
  HISTOGRAM_GAMMA,
  HISTOGRAM_RELATIVE_ERROR,
  encodeHistogram,
  forEachHistogramBin,
  histogramBin,
  histogramBinValue,
  mergeHistograms,
} from './histogram.js';
export { DEFAULT_INSIGHTS_LIMIT, HotSqliteInsights, MAX_INSIGHTS_LIMIT, trendingScore } from './insights.js';
export { MINUTE_ROLLUP_HORIZON_MS } from './timeBuckets.js';
// The pure rollup math, shared with other hot tiers (hot-postgres) so both answer identically.
export { HistogramAccumulator, subtractHistogram } from './histogram.js';
export { compareText, mergeRankedCounts, rankCounts, type RankedCounts } from './compareText.js';
export { RollupTotals, type LatencyRow, type RollupSums } from './rollupReader.js';
export {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  alignRange,
  alignToRollups,
  ceilTo,
  floorTo,
  minuteHorizon,
  reportedBound,
  rollupSpans,
  sqlBound,
  type BucketSpan,
} from './timeBuckets.js';
export { HotSqliteTier, type HotSqliteTierOptions, type SynchronousMode } from './hotSqliteTier.js';
export { HotSqliteOptionsSchema, hotSqlitePlugin, type HotSqliteOptions } from './hotSqlitePlugin.js';
export { DEFAULT_RETENTION_POLICIES, HOT_SQLITE_MIGRATIONS, performanceScoreSql } from './migrations.js';
export { backupSqliteFile } from './sqliteBackup.js';
export { SchemaMigrator, type Migration, type MigrationResult } from './schemaMigrator.js';
export { hotSqlitePlugin as default } from './hotSqlitePlugin.js';
