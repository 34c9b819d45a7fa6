export { ARCHIVED_STORED_AT, archivedToReplay } from './archivedReplay.js';
export {
  DEFAULT_CONVERSION_DEPTH,
  backfillRollups,
  createInteractionPreparer,
  prepareBatchWriter,
  prepareGroupWriter,
  prepareMetricWriter,
  prepareRollupWriter,
  registerRollupFunctions,
  type BatchWriteResult,
  type BatchWriter,
  type BatchWriterOptions,
  type GroupWriter,
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
export { HotSqliteInsights } from './insights.js';
export { MINUTE_ROLLUP_HORIZON_MS } from './timeBuckets.js';
// The pure rollup math, shared with other hot tiers (hot-postgres) so both answer identically.
export { HistogramAccumulator, subtractHistogram } from './histogram.js';
export { compareText, mergeRankedCounts, rankCounts, type RankedCounts } from './compareText.js';
export { RollupTotals, type LatencyRow, type RollupSums } from './rollupReader.js';
export {
  MINUTE_GRANULARITY,
  ROLLUP_GRANULARITIES,
  ROLLUP_SIZES,
  addDeltas,
  aggregateBatch,
  contentKey,
  emptyDeltas,
  mergeSessions,
  rollupDelta,
  startsBefore,
  toMicros,
  type BatchDeltas,
  type ContentDayDelta,
  type ContentDelta,
  type FreshEvent,
  type LatencyDelta,
  type PreparedInteraction,
  type QueryDayDelta,
  type QueryDelta,
  type RollupDelta,
  type SessionDelta,
  type SessionState,
  type StoredSession,
} from './batchAggregation.js';
export { aggregateMetrics, type MetricDelta } from './metricAggregation.js';
export { INSERT_COLUMNS as INTERACTION_COLUMNS, interactionFromRow, interactionValues, type StoredInteractionRow } from './interactionRows.js';
export {
  CONTENT_KEYSET,
  DEFAULT_INSIGHTS_LIMIT,
  MAX_INSIGHTS_LIMIT,
  METRICS_KEYSET,
  QUESTIONS_KEYSET,
  dailyKeysetPage,
  decodeCursor,
  encodeCursor,
  insightsPageSize,
  keysetPage,
  metricsKeysetPage,
  pageAfter,
  type CursorTypes,
  type CursorValue,
  type Keyset,
  type KeysetPageQuery,
} from './insightsCursor.js';
export {
  DEFAULT_BASELINE_DAYS,
  DEFAULT_RECENT_DAYS,
  commonQuestionItem,
  contentEffectivenessItem,
  metricRollupKey,
  rankTrending,
  systemPerformancePoint,
  trendingScore,
  trendingWindowDays,
  type ContentSums,
  type MetricRollupRow,
  type QuestionSums,
  type TrendingAsks,
} from './insightsShaping.js';
export {
  businessMetricsPage,
  dailyTrendingPage,
  userBehaviourPage,
  type RoleTypeSums,
  type RollupSource,
  type TrendingWindow,
} from './rollupAnswers.js';
export { buildReport } from './reportBuilder.js';
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
export { DEFAULT_GROUP_COMMIT_EVENTS, HotSqliteTier, type HotSqliteTierOptions, type SynchronousMode } from './hotSqliteTier.js';
export { HotSqliteOptionsSchema, hotSqlitePlugin, type HotSqliteOptions } from './hotSqlitePlugin.js';
export { DEFAULT_RETENTION_POLICIES, HOT_SQLITE_MIGRATIONS, performanceScoreSql } from './migrations.js';
export { backupSqliteFile } from './sqliteBackup.js';
export { SchemaMigrator, type Migration, type MigrationResult } from './schemaMigrator.js';
export { hotSqlitePlugin as default } from './hotSqlitePlugin.js';
