export type { CacheStats, CacheStore } from './cache.js';
export {
  DEFAULT_INSIGHTS_CACHE_TTLS,
  DEFAULT_SESSION_WINDOW_MS,
  INSIGHTS_CACHE_CATEGORIES,
  MAX_DAY_TAGS,
  OPEN_RANGE_TAG,
  batchInvalidationTags,
  cachedInsights,
  insightsCacheKey,
  insightsCacheTags,
  metricInvalidationTags,
  type CachedInsights,
  type CachedInsightsOptions,
  type CachedInsightsPolicy,
  type InsightsCacheCategory,
  type InsightsCacheStore,
} from './cachedInsights.js';
export { systemClock, type Clock } from './clock.js';
export {
  ALERT_NOTIFIERS,
  type Alert,
  type AlertComparison,
  type AlertNotification,
  type AlertNotifier,
  type AlertNotifierContext,
  type AlertRuleConfig,
  type AlertSeverity,
  type AlertStatus,
  type NotifierDeliveryOptions,
} from './alerting.js';
export {
  BUILT_IN_PLUGINS,
  CONFIG_FILE_NAMES,
  EMBEDDED_DEFAULT_PLUGINS,
  StrataConfigSchema,
  defineConfig,
  findConfigFile,
  loadConfig,
  resolveConfig,
  type LoadConfigOptions,
  type LogLevel,
  type PipelineOptions,
  type PluginCatalog,
  type PluginSpec,
  type ResolveConfigOptions,
  type ResolvedConfig,
  type ResolvedPipeline,
  type ResolvedPlugin,
  type ResolvedSinkDelivery,
  type SinkDeliveryOptions,
  type StrataConfig,
} from './config.js';
export {
  createStrata,
  type CreateStrataOptions,
  type IngestLinesOptions,
  type IngestSummary,
  type RatingFeedback,
  type RatingResult,
  type Strata,
  type StrataStatus,
} from './createStrata.js';
export { DeadLetterStore, safeStringify, type DeadLetter, type EventSource } from './deadLetterStore.js';
export { createSessionMatcher, eraseFromDeadLetters, type DeadLetterErasure } from './deadLetterErasure.js';
export { parseDuration, requireDuration } from './duration.js';
export {
  ClosedError,
  ConfigError,
  DiskFullError,
  PermanentError,
  PluginStartError,
  PluginTimeoutError,
  QueueFullError,
  RetryableError,
  StopError,
  StorageError,
  StrataError,
  ValidationError,
  describeError,
  formatIssues,
  type Issue,
  type StrataErrorCode,
} from './errors.js';
export type { IngestTally, PipelineCounters, RecordOutcome } from './ingestPipeline.js';
export {
  tierInsights,
  type CommonQuestion,
  type ContentEffectiveness,
  type DailyBusinessMetrics,
  type InsightsGranularity,
  type InsightsPage,
  type InsightsProvider,
  type InsightsQuery,
  type RoleBehaviour,
  type SystemPerformancePoint,
  type SystemPerformanceQuery,
  type TrendingPage,
  type TrendingQueriesQuery,
  type TrendingQuery,
} from './insights.js';
export {
  ContentRefSchema,
  DEFAULT_EVENT_LIMITS,
  DEFAULT_QUERY_TYPES,
  InteractionSchema,
  createInteractionSchema,
  createInteractionValidator,
  deriveEventId,
  type ContentRef,
  type EventLimits,
  type Interaction,
  type InteractionInput,
  type ValidationResult,
} from './interaction.js';
export {
  LAYERED_DEFAULT_LIMIT,
  LAYERED_MAX_LIMIT,
  contentPerformanceScore,
  layerInsights,
  trendingScoreOf,
  type CountedContentEffectiveness,
} from './layeredInsights.js';
export {
  InteractionDigest,
  interactionLine,
  monthOf,
  monthRange,
  type ArchivePartition,
  type InteractionArchive,
  type MonthKey,
  type MonthlyAggregateStore,
  type PartitionVerification,
} from './lifecycle.js';
export {
  ACCESS_ROLES,
  AccessDeniedError,
  OPERATIONS,
  OPERATION_PERMISSIONS,
  ROLE_PERMISSIONS,
  isAccessRole,
  missingPermissions,
  type AccessRole,
  type Operation,
  type Permission,
  type Principal,
} from './access.js';
export { AuditLog, type AuditEntry } from './auditLog.js';
export { eraseSubject, storedSessionIds, type ErasureReport, type ErasureRequest, type ParticipantErasure, type SessionEraser, type TierErasure } from './erasure.js';
export { createScopedStrata, validatePrincipal, type ScopedStrata } from './scopedStrata.js';
export { JobScheduler, type JobRunRecord, type JobStatus, type RunJobOptions } from './jobScheduler.js';
export { insightsMetricSource } from './insightsMetrics.js';
export { DEFAULT_SYSTEM_MONITOR_OPTIONS, SystemMonitor, type SystemMonitorOptions, type SystemMonitorSources } from './systemMonitor.js';
export { computeKpis, kpiMetricSource, type Kpi, type KpiSources } from './kpis.js';
export { readLines } from './lineReader.js';
export { createLogger, type Logger } from './logger.js';
export { MetricSchema, createMetricSchema, createMetricValidator, type Metric, type MetricInput } from './metric.js';
export { definePlugin, isPluginDefinition, type NamedPluginEntry, type PluginDefinition, type PluginEntry } from './plugin.js';
export { orderPlugins } from './pluginOrder.js';
export { createQueryKeyer, hashQuery, normalizeQuery, type QueryKey } from './queryNormalization.js';
export { PluginRegistry, type RegistryEnvironment } from './registry.js';
export type { SinkCounters } from './sinkChannel.js';
export { MIN_TIMESTAMP_MS, parseTimestamp } from './timestamp.js';
export type {
  ErasedSubject,
  ErasureParticipant,
  GroupStats,
  HealthOptions,
  InteractionQuery,
  Job,
  JobContext,
  JobLock,
  MetricReading,
  MetricSource,
  JobProgress,
  JobReport,
  Page,
  PluginContext,
  PluginContribution,
  Processor,
  ProcessorResult,
  Report,
  ReportQuery,
  RetentionPolicyRecord,
  ScanOptions,
  SessionErasureContext,
  Sink,
  StorageTier,
  TierBackup,
  TierHealth,
  TierRole,
  TimeRange,
  WriteResult,
} from './types.js';
